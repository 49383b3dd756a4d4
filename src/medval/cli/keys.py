"""Signing keys: this account's key on this machine, and rotating it."""

from __future__ import annotations

import typer

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.cli.render import columns
from medval.client.settings import require_login
from medval.client.signing import key_path, load_signing_key, rotate
from medval.core.schemas import SigningKeyPublic

KEY_COLUMNS = columns(SigningKeyPublic, "key_id", "created_at", "retired_at")

app = typer.Typer(help="Your signing keys (results are signed with them).", no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """This machine's key, and every key of yours the server holds (retired ones too)."""
    session: Session = ctx.obj
    username = require_login(session.settings).username
    key = load_signing_key(session.settings, username)
    with session.client() as client:
        registered = client.my_signing_keys()
    if key is None:
        session.note(f"no signing key for {username} on this machine; run 'medval login'")
    else:
        session.note(f"this machine's key: {key.key_id} ({key_path(session.settings, username)})")
    session.show(registered, fmt, KEY_COLUMNS, "signing keys")


@app.command("rotate")
def rotate_key(ctx: typer.Context) -> None:
    """Make a new key and register it; the server retires the old one (what it signed
    stays verifiable)."""
    session: Session = ctx.obj
    username = require_login(session.settings).username
    with session.client() as client:
        old, new = rotate(client, session.settings, username)
    retired = f"; key {old[:16]} is retired" if old else ""
    session.note(f"new signing key {new.key_id[:16]} registered{retired}")
