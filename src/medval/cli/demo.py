"""``medval demo``: a complete federated benchmark on real data, on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session


def demo(
    ctx: typer.Context,
    workdir: Path = typer.Option(
        Path("demo-run"), "--workdir", help="Folder for the demo (emptied first)."
    ),
) -> None:
    """Play every role of a federated benchmark against an embedded server."""
    from medval.demo.play import run_demo  # the demo pulls in pandas; keep other commands fast

    session: Session = ctx.obj
    run_demo(workdir.resolve(), session.err)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
