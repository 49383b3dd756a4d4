"""The command reference, ``docs/cli.md``, made from the commands, settings and exit codes
themselves, so that it cannot drift: ``tests/docs`` fails when the file differs from what
this makes. ``make docs`` (or ``python -m medval.cli.reference > docs/cli.md``) writes it.

Every command is listed with its usage, its help and its options as ``medval ... --help``
shows them; every setting with its environment variable, default and meaning; every exit
status with its meaning (``core.exit_codes``). Imports every command's module: not for
``medval`` itself, which loads only the command it runs (``cli.lazy_group``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
import typer
from pydantic import BaseModel

from medval.cli.main import app
from medval.client.settings import ClientSettings
from medval.core.exit_codes import exit_codes_table
from medval.server.settings import ServerSettings

HEADER = """# medval command reference

Made from the code by `make docs` (`python -m medval.cli.reference`); a test fails when
this file is stale, so it matches the installed `medval`. The README explains what the
commands are for and walks through them; this page lists every one.
"""


def _leaves(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Command, click.Context]]:
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _leaves(sub, click.Context(sub, info_name=name, parent=ctx))
        return
    yield command, ctx


def _clean(text: str) -> str:
    """Help as plain Markdown: rich's escaped brackets unescaped, table pipes escaped."""
    return text.replace("\\[", "[").replace("|", "\\|").strip()


def _command(command: click.Command, ctx: click.Context) -> str:
    path = ctx.command_path
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])  # never wrapped
    lines = [f"### `{path}`", "", "```", usage, "```", ""]
    if command.help:
        lines += [command.help.strip(), ""]
    return "\n".join(lines) + "\n" + _options(command, ctx)


def _options(command: click.Command, ctx: click.Context) -> str:
    """The options' table as ``--help`` shows them, and a blank line; '' without options."""
    records = [p.get_help_record(ctx) for p in command.get_params(ctx)]
    shown = [r for r in records if r is not None and r[0] != "--help"]
    if not shown:
        return ""
    lines = ["| option | meaning |", "| --- | --- |"]
    lines += [f"| `{_clean(name)}` | {_clean(meaning)} |" for name, meaning in shown]
    return "\n".join(lines) + "\n\n"


def commands_reference() -> str:
    root = typer.main.get_command(app)
    ctx = click.Context(root, info_name="medval")
    before = "Given before the command (`medval --home DIR run ...`):\n\n" + _options(root, ctx)
    return before + "".join(_command(command, sub) for command, sub in _leaves(root, ctx))


def _default(settings: type[BaseModel], name: str) -> str:
    field = settings.model_fields[name]
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        text = str(value).replace(str(Path.home()), "~")
    elif field.default is None:
        return "(none)"
    else:
        text = str(field.default)
    return f"`{text}`" if text else "(empty)"


def settings_reference(settings: type[BaseModel], prefix: str) -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in settings.model_fields.items():
        meaning = _clean(field.description or "")
        rows.append(f"| `{prefix}{name.upper()}` | {_default(settings, name)} | {meaning} |")
    return "\n".join(rows) + "\n"


def reference() -> str:
    return "\n".join(
        [
            HEADER,
            "## Commands",
            "",
            commands_reference(),
            "## Settings",
            "",
            "Each is an environment variable; a command-line option, where there is one, wins.",
            "",
            "### Client (`medval` on a site's or an owner's machine)",
            "",
            settings_reference(ClientSettings, "MEDVAL_"),
            "### Server (`medval server ...`)",
            "",
            settings_reference(ServerSettings, "MEDVAL_SERVER_"),
            "## Exit codes",
            "",
            exit_codes_table(),
        ]
    )


if __name__ == "__main__":
    sys.stdout.write(reference())
