"""``medval server ...``: run, migrate and bootstrap a medval server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError

from medval.cli.accounts import read_password
from medval.cli.context import FormatOption, OutputFormat, output_console, render
from medval.core.errors import InvalidInput, describe_problems

if TYPE_CHECKING:
    from medval.server.settings import ServerSettings

# The server package (FastAPI, SQLAlchemy, Alembic) is imported inside each command, so
# that every other medval command starts without paying for it.

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
    """A bad setting is one line (medval's own errors are handled by ``medval.cli.main``)."""
    try:
        yield
    except ValidationError as exc:
        raise InvalidInput(f"invalid setting {describe_problems(exc.errors())}") from None


def _settings(data_dir: Path | None, database_url: str | None, **more: Any) -> ServerSettings:
    from medval.server.settings import ServerSettings

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
    certfile: Path | None = typer.Option(
        None,
        "--certfile",
        help="Serve HTTPS with this certificate (PEM) [env MEDVAL_SERVER_CERTFILE]",
    ),
    keyfile: Path | None = typer.Option(
        None, "--keyfile", help="The certificate's private key (PEM) [env MEDVAL_SERVER_KEYFILE]"
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        help="Server processes sharing the port; PostgreSQL recommended above 1 "
        "[env MEDVAL_SERVER_WORKERS, default 1]",
    ),
) -> None:
    """Migrate the database to the newest schema, then serve (HTTPS with --certfile)."""
    with _one_line_errors():
        settings = _settings(
            data_dir,
            database_url,
            host=host,
            port=port,
            certfile=certfile,
            keyfile=keyfile,
            workers=workers,
        )
        from medval.server.serve import run_server

        run_server(settings, announce=lambda url: typer.echo(f"medval server on {url}", err=True))


@server_app.command()
def migrate(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from medval.server.store.migrate import upgrade_database

    with _one_line_errors():
        upgrade_database(_settings(data_dir, database_url))
        typer.echo("database is at the newest schema", err=True)


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
    from medval.server.admin import create_admin
    from medval.server.store.migrate import upgrade_database

    with _one_line_errors():
        settings = _settings(data_dir, database_url)
        password = read_password(password_stdin, confirm=True, env=ADMIN_PASSWORD_ENV)
        upgrade_database(settings)
        user = create_admin(settings, username, password)
        typer.echo(f"admin {user.username} created (id {user.id})", err=True)


audit_app = typer.Typer(
    help="The server's audit log: every change, hash-chained.", no_args_is_help=True
)
server_app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Check every entry, link and the head; name the first entry that does not verify."""
    from medval.server.audit_admin import verify_audit_log

    with _one_line_errors():
        head = verify_audit_log(_settings(data_dir, database_url))
    typer.echo(f"audit log verified: {head.size} entries, head {head.last_hash}")


@audit_app.command("show")
def audit_show(
    entity: str | None = typer.Option(
        None, "--entity", help="KIND or KIND:ID, e.g. result or result:7"
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only what this account did"),
    fmt: OutputFormat = FormatOption,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """List the entries, oldest first."""
    from medval.cli.render import audit_table
    from medval.server.audit_admin import read_audit_log

    kind, _, entity_id = (entity or "").partition(":")
    with _one_line_errors():
        entries = read_audit_log(
            _settings(data_dir, database_url), kind or None, entity_id or None, actor
        )
    out = output_console()

    def table() -> None:
        out.print(audit_table(entries) if entries else "(no audit entries)")

    render(out, fmt, entries, table)
