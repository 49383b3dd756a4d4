"""The ``medval`` command: assembles the sub-commands and is the one error boundary.

Any error a user can cause is printed as one line on stderr with its exit code; an
unexpected one says so on one line too (set MEDVAL_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from medval import __version__
from medval.cli import (
    accounts,
    aggregators,
    audit,
    benchmarks,
    console,
    cubes,
    datasets,
    demo,
    executions,
    keys,
    models,
    results,
    storage,
    training,
    verify,
)
from medval.cli.context import Session
from medval.cli.server_commands import server_app
from medval.client.settings import ClientSettings
from medval.core.errors import MedvalError

INTERNAL_ERROR_EXIT = 70

app = typer.Typer(
    name="medval",
    help="Federated evaluation of medical AI: benchmarks, hospitals' data, models, evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain, one-line usage errors and plain help
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None, "--home", envvar="MEDVAL_HOME", help="Client folder (credentials, workspace)."
    ),
    runner: str | None = typer.Option(
        None,
        "--runner",
        envvar="MEDVAL_RUNNER",
        help="Sandbox: local, docker or podman.",
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if runner is not None:
        overrides["runner"] = runner
    ctx.obj = Session(ClientSettings(**overrides))  # type: ignore[arg-type]


accounts.register(app)
app.add_typer(server_app, name="server")
app.add_typer(accounts.users_app, name="users")
app.add_typer(cubes.app, name="cube")
app.add_typer(benchmarks.app, name="benchmark")
app.add_typer(benchmarks.associations_app, name="association")
app.add_typer(datasets.app, name="dataset")
app.add_typer(models.app, name="model")
executions.register(app)
console.register(app)
app.add_typer(results.app, name="results")
app.add_typer(keys.app, name="keys")
verify.register(app)
app.add_typer(storage.app, name="storage")
app.add_typer(audit.app, name="audit")
app.add_typer(training.app, name="training")
app.add_typer(aggregators.app, name="aggregator")
demo.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of raising.

    Typer's standalone mode prints usage errors (bad options, bad values) itself and
    exits through SystemExit; every medval error is turned into one line here.
    """
    try:
        app(args=argv, prog_name="medval")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MedvalError as exc:
        _say(f"error: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("error: interrupted; finished steps are kept, run the command again to resume")
        return 130
    except Exception as exc:  # the last line of defence: no traceback for a user
        if os.environ.get("MEDVAL_DEBUG"):
            raise
        _say(
            f"internal error: {exc.__class__.__name__}: {exc} "
            "(set MEDVAL_DEBUG=1 for details, and please report it)"
        )
        return INTERNAL_ERROR_EXIT
    return 0


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
