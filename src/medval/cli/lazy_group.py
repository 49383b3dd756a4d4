"""The root ``medval`` group: a command's module is imported when the command runs.

Click asks a group for a command by name (``get_command``) only once it knows which one
runs; this group answers from :data:`medval.cli.command_table.COMMANDS`, importing just
that module. ``medval --help`` lists the table's help lines without importing any.
Typer builds the command the same way it would have (``typer.main.get_command``), so
options, help and errors are Typer's as before.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
import typer
from typer.core import TyperGroup

from medval.cli.command_table import COMMANDS, CommandEntry

_BY_NAME = {entry.name: entry for entry in COMMANDS}


def load_command(entry: CommandEntry) -> click.Command:
    """The click command of one table entry (its module imported now), built under a
    parent with the root's settings (plain help, no completion) as ``add_typer`` and
    ``command`` on the root would have built it."""
    target: Any = getattr(importlib.import_module(entry.module), entry.attribute)
    parent = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=entry.name)
    else:
        parent.command(entry.name)(target)
    built = typer.main.get_command(parent)
    # Typer returns a lone command as it is, and a lone group inside a group. Asked by
    # shape, not class: Typer 0.2x releases after 0.20 bring their own copy of click, whose
    # Group is not click.Group (a Debian venv installs the newest).
    inner = getattr(built, "commands", None)
    command = inner[entry.name] if inner is not None else built
    command.name = entry.name
    return command


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [entry.name for entry in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _BY_NAME.get(cmd_name)
        return load_command(entry) if entry is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(entry.name, entry.help) for entry in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
