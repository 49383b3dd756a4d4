"""``medval training simulate``: a thin face over ``client.training_simulation``."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, json_or_table
from medval.client.training_simulation import SimulationRequest, simulate_experiment
from medval.core.exit_codes import ExitCode
from medval.training.simulation import SimulatedRound

INTERRUPTED = ExitCode.INTERRUPTED
NO_CSV = "a simulation's account is one nested document (its rounds, its final model)"


def simulate(
    ctx: typer.Context,
    experiment: str = typer.Argument(..., help="The experiment's name or id."),
    sites: int = typer.Option(..., "--sites", help="How many virtual sites share the data."),
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="A prepared dataset of this workspace, by name."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="A prepared folder (as the preparation cube wrote it)."
    ),
    rounds: int | None = typer.Option(
        None, "--rounds", help="Rounds to run (default: the plan's)."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="A new folder for the final model and Flower's logs."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Run the experiment's training cube on Flower's simulation engine, with N virtual
    sites made from partitions of one prepared dataset: how long a round takes, and what
    the plan trains, before any hospital is asked."""
    session: Session = ctx.obj
    json_or_table(fmt, NO_CSV)  # refused before anything runs
    folder = output or (
        session.workspace.home / "training" / "simulations" / f"{experiment}-{time.time_ns()}"
    )
    request = SimulationRequest(experiment, sites, folder.resolve(), dataset, data, rounds)

    def said(done: SimulatedRound, total: int) -> None:
        session.progress(
            f"round {done.metrics.round}/{total}: {done.metrics.train_replies} sites, "
            f"{done.seconds:.1f} s"
        )

    with session.client() as client:
        try:
            result = simulate_experiment(session.executor(client), request, said)
        except KeyboardInterrupt:
            # Every Flower and Ray process is stopped by now (training.simulation).
            session.note("interrupted: the simulation was stopped")
            raise typer.Exit(INTERRUPTED) from None
    if json_or_table(fmt, NO_CSV):
        session.show(result, fmt)
        return
    per_round = ", ".join(f"{r.seconds:.2f}" for r in result.rounds)
    session.note(
        f"simulated {len(result.rounds)} rounds of {result.experiment} over {result.sites} "
        f"sites in {result.seconds:.1f} s; seconds per round ({result.timed_by}): {per_round}"
    )
    last = result.rounds[-1] if result.rounds else None
    if last is not None and last.train:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.train.items() if isinstance(v, float))
        session.note(f"last round's aggregated training metrics: {shown}")
    session.note(f"final model {result.final_model} (sha256 {result.final_model_sha256})")
