"""Accounts: login, logout, whoami; and user management for admins."""

from __future__ import annotations

import os
import sys

import typer

from medval.cli import participation
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption, validated
from medval.cli.render import columns
from medval.client import accounts
from medval.client.encryption_keys import ensure_encryption_key
from medval.client.http import MedvalClient
from medval.client.settings import (
    StoredLogin,
    forget_login,
    load_login,
    save_login,
    tls_verify,
)
from medval.client.signing import ensure_signing_key
from medval.core.errors import InvalidInput, MedvalError
from medval.core.schemas import PasswordChange, UserCreate, UserPublic

USER_COLUMNS = columns(
    UserPublic, "id", "username", "is_admin", "disabled", "institution", "created_at"
)

users_app = typer.Typer(
    help="Manage accounts (admins; anyone may revoke their own tokens).", no_args_is_help=True
)
NEW_PASSWORD_ENV = "MEDVAL_NEW_PASSWORD"

PASSWORD_HELP = "Read the password from standard input (for scripts)."


def read_password(
    password_stdin: bool,
    confirm: bool = False,
    env: str = "MEDVAL_PASSWORD",
    label: str = "Password",
) -> str:
    """From stdin, an environment variable, or a hidden prompt; never from an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif os.environ.get(env):
        password = os.environ[env]
    elif sys.stdin.isatty():
        password = typer.prompt(label, hide_input=True, confirmation_prompt=confirm)
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
    registers the public key on the server; uploads are signed with it. It makes its
    encryption key too (mode 600), to which private models' keys are wrapped."""
    session: Session = ctx.obj
    url = session.server_url(server)
    password = read_password(password_stdin)
    verify = tls_verify(session.settings)
    with MedvalClient(url, timeout=session.settings.http_timeout_seconds, verify=verify) as client:
        token = client.login(username, password)
    save_login(
        session.settings,
        StoredLogin(server=url, username=username, token=token.token, expires_at=token.expires_at),
    )
    session.err.print(
        f"logged in to {url} as {username} (until {token.expires_at:%Y-%m-%d %H:%M} UTC)"
    )
    timeout = session.settings.http_timeout_seconds
    with MedvalClient(url, token.token, timeout=timeout, verify=verify) as client:
        setup = ensure_signing_key(client, session.settings, username)
        encryption = ensure_encryption_key(client, session.settings, username)
    if setup.note is not None:
        session.note(f"note: {setup.note}")
    elif setup.made:
        session.note(f"made signing key {setup.key.key_id[:16]} and registered it on the server")
    if encryption.made:
        session.note(
            f"made encryption key {encryption.key.key_id[:16]} (private models' keys are "
            "wrapped to it) and registered it on the server"
        )


def logout(ctx: typer.Context) -> None:
    """Revoke the token on the server and forget it here."""
    session: Session = ctx.obj
    stored = load_login(session.settings)
    if stored is None:
        session.err.print("not logged in")
        return
    try:
        with MedvalClient(
            stored.server, stored.token, verify=tls_verify(session.settings)
        ) as client:
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


def password(
    ctx: typer.Context,
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help=f"Read the old password, then the new one, a line each (or set MEDVAL_PASSWORD "
        f"and {NEW_PASSWORD_ENV}).",
    ),
) -> None:
    """Change your own password (every other session of yours is logged out)."""
    session: Session = ctx.obj
    old = read_password(password_stdin, label="Old password")
    new = read_password(password_stdin, confirm=True, env=NEW_PASSWORD_ENV, label="New password")
    change = validated(PasswordChange, old_password=old, new_password=new)
    with session.client() as client:
        me = accounts.change_own_password(client, change)
    session.note(f"password of {me.username} changed; your other sessions are logged out")


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
    app.command()(password)


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


@users_app.command("set-password")
def set_password(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help=f"Read it from stdin (or set {NEW_PASSWORD_ENV})."
    ),
) -> None:
    """Set another account's password (admins only); its sessions are logged out."""
    session: Session = ctx.obj
    new = read_password(password_stdin, confirm=True, env=NEW_PASSWORD_ENV, label="New password")
    change = validated(PasswordChange, new_password=new)
    with session.client() as client:
        user = accounts.set_password(client, username, change)
    session.note(f"password of {user.username} set; their sessions are logged out")


@users_app.command("disable")
def disable_user(
    ctx: typer.Context, username: str = typer.Argument(...), yes: bool = YesOption
) -> None:
    """Disable an account (admins only): it cannot log in and its tokens stop working."""
    session: Session = ctx.obj
    with session.client() as client:
        session.confirm(f"Disable account {username} and log it out everywhere?", yes)
        user = accounts.set_disabled(client, username, disabled=True)
    session.note(f"{user.username} is disabled; their sessions are logged out")


@users_app.command("enable")
def enable_user(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Enable a disabled account again (admins only)."""
    session: Session = ctx.obj
    with session.client() as client:
        user = accounts.set_disabled(client, username, disabled=False)
    session.note(f"{user.username} is enabled")


@users_app.command("revoke-tokens")
def revoke_tokens(
    ctx: typer.Context,
    username: str | None = typer.Argument(None, help="Another account (admins); yours if none"),
    yes: bool = YesOption,
) -> None:
    """Log an account out everywhere: every token it holds stops working."""
    session: Session = ctx.obj
    with session.client() as client:
        whose = f"account {username}" if username else "your account"
        session.confirm(f"Revoke every token of {whose}?", yes)
        revocation = accounts.revoke_tokens(client, username)
    if revocation.own:
        forget_login(session.settings)
    note = "; log in again" if revocation.own else ""
    session.note(f"revoked {revocation.revoked} token(s) of {revocation.user.username}{note}")


# An account's institution: next to the committee's expected sites, which it serves.
participation.register_users(users_app)
