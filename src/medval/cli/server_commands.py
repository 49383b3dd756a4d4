"""``medval server ...``: run, migrate and bootstrap a medval server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from medval.core.errors import InvalidInput, MedvalError
from medval.server.admin import create_admin
from medval.server.serve import run_server
from medval.server.settings import ServerSettings
from medval.server.store.migrate import upgrade_database

server_app = typer.Typer(help="Run and administer a medval server.", no_args_is_help=True)

ADMIN_PASSWORD_ENV = "MEDVAL_ADMIN_PASSWORD"

DataDirOption = typer.Option(
    None, "--data-dir", help="Blobs and the default SQLite database [env MEDVAL_SERVER_DATA_DIR]"
)
DatabaseOption = typer.Option(
    None,
    "--database-url",
    help="sqlite:///... or postgresql://... [env MEDVAL_SERVER_DATABASE_URL]",
)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A user's mistake is one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except MedvalError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        typer.echo(f"error: invalid setting {where}: {first['msg']}", err=True)
        raise typer.Exit(InvalidInput.exit_code) from None


def _settings(data_dir: Path | None, database_url: str | None, **more: Any) -> ServerSettings:
    overrides: dict[str, Any] = {k: v for k, v in more.items() if v is not None}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return ServerSettings(**overrides)


@server_app.command()
def start(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
    host: str | None = typer.Option(None, "--host", help="[env MEDVAL_SERVER_HOST]"),
    port: int | None = typer.Option(None, "--port", help="[env MEDVAL_SERVER_PORT]"),
) -> None:
    """Migrate the database to the newest schema, then serve."""
    with _one_line_errors():
        settings = _settings(data_dir, database_url, host=host, port=port)
        typer.echo(f"medval server on http://{settings.host}:{settings.port}", err=True)
        run_server(settings)


@server_app.command()
def migrate(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    with _one_line_errors():
        upgrade_database(_settings(data_dir, database_url))
        typer.echo("database is at the newest schema", err=True)


def _admin_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif os.environ.get(ADMIN_PASSWORD_ENV):
        password = os.environ[ADMIN_PASSWORD_ENV]
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise InvalidInput(f"no password: use --password-stdin or set {ADMIN_PASSWORD_ENV}")
    if not password:
        raise InvalidInput("the password is empty")
    return password


@server_app.command("create-admin")
def create_admin_command(
    username: str = typer.Option(..., "--username", "-u", help="The admin's account name"),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help=f"Read the password from stdin (or set {ADMIN_PASSWORD_ENV})",
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Create an admin account (migrating the database first)."""
    with _one_line_errors():
        settings = _settings(data_dir, database_url)
        password = _admin_password(password_stdin)
        upgrade_database(settings)
        user = create_admin(settings, username, password)
        typer.echo(f"admin {user.username} created (id {user.id})", err=True)
