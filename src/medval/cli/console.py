"""``medval console``: the data owner's local page (``medval.console``), started here."""

from __future__ import annotations

import typer

from medval.cli.context import Session
from medval.console.serve import check_loopback, serve_console


def console(
    ctx: typer.Context,
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="0: any free port."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Only 127.0.0.1: the console never listens elsewhere."
    ),
) -> None:
    """Serve the local console on 127.0.0.1: pending executions, runs, payloads, uploads
    and the local audit log, behind a one-time token printed here."""
    session: Session = ctx.obj
    check_loopback(host)
    serve_console(
        session.settings,
        port,
        lambda address: session.note(f"Open {address} in your browser (Ctrl-C stops the console)"),
    )


def register(app: typer.Typer) -> None:
    app.command("console")(console)
