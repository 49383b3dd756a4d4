"""``medval demo``: a complete federated benchmark on real data, on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session


def demo(
    ctx: typer.Context,
    workdir: Path = typer.Option(
        Path("demo-run"),
        "--workdir",
        help="Folder for the demo: new, empty, or an earlier demo's (emptied first).",
    ),
    runner: str | None = typer.Option(
        None, "--runner", help="Sandbox for every cube task: local, docker or podman."
    ),
    training: bool = typer.Option(
        False,
        "--training",
        help="Also train a model across the hospitals on Flower (needs medval[training]); "
        "it joins the benchmark beside the others.",
    ),
) -> None:
    """Play every role of a federated benchmark against an embedded server."""
    from medval.demo.play import run_demo  # the demo pulls in pandas; keep other commands fast

    session: Session = ctx.obj
    run_demo(workdir.resolve(), session.err, runner or session.settings.runner, training)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
