"""``medval demo``: a complete federated benchmark on real data, on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session
from medval.core.errors import InvalidInput


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
    imaging: bool = typer.Option(
        False,
        "--imaging",
        help="Play the imaging benchmark instead: brain masks on real T1 MR scans "
        "(needs medval[imaging], Debian's mricron-data and the wheels of make imaging-wheels).",
    ),
    setup_only: bool = typer.Option(
        False,
        "--setup-only",
        help="Only write the demo's cubes (models trained), hospital exports, demo data and "
        "declarations into the folder, then stop: play the roles yourself.",
    ),
    wheels: Path = typer.Option(
        Path(".imaging-wheels"),
        "--wheels",
        help="With --imaging: the folder of wheels the imaging cubes' locks pin.",
    ),
) -> None:
    """Play every role of a federated benchmark against an embedded server."""
    session: Session = ctx.obj
    chosen = runner or session.settings.runner
    if imaging:
        if training:
            raise InvalidInput("--imaging and --training are separate demos; pick one")
        if setup_only:
            raise InvalidInput("--setup-only writes the tabular demo's materials; drop --imaging")
        from medval.demo.play_imaging import run_imaging_demo

        run_imaging_demo(workdir.resolve(), session.err, wheels.resolve(), chosen)
        return
    if setup_only:
        if training:
            raise InvalidInput("--setup-only writes the tabular demo's materials; drop --training")
        from medval.demo.play import set_up_only

        set_up_only(workdir.resolve(), session.err)
        return
    from medval.demo.play import run_demo  # the demo pulls in pandas; keep other commands fast

    run_demo(workdir.resolve(), session.err, chosen, training)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
