"""``medval training run`` (a site trains) and ``medval aggregator start`` (the aggregator
trains): thin faces over ``client.training_participation`` and
``client.training_aggregation``."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session, YesOption
from medval.client.settings import require_login
from medval.client.training_aggregation import start_aggregator
from medval.client.training_participation import brief, train

ExperimentArgument = typer.Argument(..., help="The experiment's name or id.")
WorkdirOption = typer.Option(
    None,
    "--workdir",
    help="Where Flower's state, logs and keys are kept (default: training/ in MEDVAL_HOME).",
)


def _workdir(session: Session, given: Path | None, what: str) -> Path:
    return (given or session.workspace.home / "training" / what).resolve()


def run(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = typer.Option(
        ..., "--dataset", "-d", help="The dataset that trains: its id, or its local name."
    ),
    workdir: Path | None = WorkdirOption,
    yes: bool = YesOption,
) -> None:
    """Train at this site: shows what will run and what will leave, asks, then joins the
    aggregator until the experiment has all its rounds (Ctrl-C leaves; run it again to
    rejoin)."""
    session: Session = ctx.obj
    username = require_login(session.settings).username
    with session.client() as client:
        executor = session.executor(client)
        folder = _workdir(session, workdir, f"site-{experiment}-{dataset}")
        with brief(executor, session.settings, username, experiment, dataset, folder) as briefing:
            for line in briefing.lines:
                session.note(line)
            session.confirm(
                f"Train dataset {briefing.association.dataset} in experiment "
                f"{briefing.experiment.name}, sending model updates to "
                f"{briefing.aggregator_address}?",
                yes,
            )
            rounds = train(executor, briefing, folder, session.note)
    session.note(f"{rounds} of {briefing.experiment.plan.rounds} rounds recorded on the server")


def start(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    workdir: Path | None = WorkdirOption,
    timeout: float | None = typer.Option(
        None, "--timeout", help="Stop the run after this many seconds (default: no limit)."
    ),
) -> None:
    """Run the experiment's aggregator on this machine: Flower's SuperLink behind a
    Fleet-only TLS gate, the approved sites admitted, the plan trained to its end."""
    session: Session = ctx.obj
    with session.client() as client:
        executor = session.executor(client)
        folder = _workdir(session, workdir, "aggregator")
        done = start_aggregator(
            client, executor, experiment, folder, session.note, timeout_seconds=timeout
        )
    outcome = done.outcome
    session.note(
        f"training {outcome.status.removeprefix('finished:')} after {len(outcome.rounds)} "
        f"rounds in {outcome.seconds:.0f} s; final model {outcome.final_model_sha256}"
    )
