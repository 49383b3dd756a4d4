"""Accounts: login, logout, whoami; and user management for admins."""

from __future__ import annotations

import os
import sys

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, validated
from medval.cli.render import columns
from medval.client.http import MedvalClient
from medval.client.settings import StoredLogin, forget_login, load_login, save_login
from medval.client.signing import ensure_signing_key
from medval.core.errors import InvalidInput, MedvalError
from medval.core.schemas import UserCreate, UserPublic

USER_COLUMNS = columns(UserPublic, "id", "username", "is_admin", "created_at")

users_app = typer.Typer(help="Manage accounts (admins).", no_args_is_help=True)

PASSWORD_HELP = "Read the password from standard input (for scripts)."


def read_password(password_stdin: bool, confirm: bool = False, env: str = "MEDVAL_PASSWORD") -> str:
    """From stdin, an environment variable, or a hidden prompt; never from an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif os.environ.get(env):
        password = os.environ[env]
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    else:
        raise InvalidInput(f"no password: use --password-stdin or set {env}")
    if not password:
        raise InvalidInput("the password is empty")
    return password


def login(
    ctx: typer.Context,
    server: str | None = typer.Option(None, "--server", "-s", envvar="MEDVAL_SERVER"),
    username: str = typer.Option(..., "--username", "-u"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_HELP),
) -> None:
    """Log in to a medval server; the token is kept in the client folder (mode 600).

    The first login of an account here also makes its signing key (mode 600) and
    registers the public key on the server; uploads are signed with it."""
    session: Session = ctx.obj
    url = session.server_url(server)
    password = read_password(password_stdin)
    timeout = session.settings.http_timeout_seconds
    with MedvalClient(url, timeout=timeout) as client:
        token = client.login(username, password)
    save_login(
        session.settings,
        StoredLogin(server=url, username=username, token=token.token, expires_at=token.expires_at),
    )
    session.err.print(
        f"logged in to {url} as {username} (until {token.expires_at:%Y-%m-%d %H:%M} UTC)"
    )
    with MedvalClient(url, token.token, timeout=timeout) as client:
        setup = ensure_signing_key(client, session.settings, username)
    if setup.note is not None:
        session.note(f"note: {setup.note}")
    elif setup.made:
        session.note(f"made signing key {setup.key.key_id[:16]} and registered it on the server")


def logout(ctx: typer.Context) -> None:
    """Revoke the token on the server and forget it here."""
    session: Session = ctx.obj
    stored = load_login(session.settings)
    if stored is None:
        session.err.print("not logged in")
        return
    try:
        with MedvalClient(stored.server, stored.token) as client:
            client.logout()
    except MedvalError as exc:  # an expired token or a server that is gone: forget it anyway
        session.err.print(f"note: the server did not revoke the token ({exc.message})")
    forget_login(session.settings)
    session.err.print(f"logged out of {stored.server}")


def whoami(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Show the account this client is logged in as."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.me(), fmt)


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)


@users_app.command("list")
def list_users(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List every account (admins only)."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.users(), fmt, USER_COLUMNS, "users")


@users_app.command("create")
def create_user(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    admin: bool = typer.Option(False, "--admin", help="Give the account admin rights."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_HELP),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Create an account (admins only)."""
    session: Session = ctx.obj
    password = read_password(password_stdin, confirm=True)
    body = validated(UserCreate, username=username, password=password, is_admin=admin)
    with session.client() as client:
        session.show(client.create_user(body), fmt)
