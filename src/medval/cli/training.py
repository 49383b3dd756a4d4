"""``medval training register|show|list|approve|reject|auto-approval``: training
experiments (training owners, admins); the sites' commands are in ``training_sites``.

``medval training run|simulate`` (a site's SuperNode, Flower's simulation) belong to the
training room and join this group there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer

from medval.cli import training_runs, training_simulate, training_sites
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.render import columns, record_table
from medval.client.membership import auto_approval_rule
from medval.client.training_experiments import find_experiment, read_plan, register_experiment
from medval.core.states import ApprovalStatus, AutoApprovalMode
from medval.core.training_schemas import AggregatorPublic, TrainingExperimentPublic

app = typer.Typer(
    help="Federated training: experiments, the sites that join them, their rounds.",
    no_args_is_help=True,
)

EXPERIMENT_COLUMNS = columns(
    TrainingExperimentPublic, "id", "name", "owner", "approval", "aggregator", "final_model_id"
)
ExperimentArgument = typer.Argument(..., help="The experiment's name or id.")


@app.command("register")
def register(
    ctx: typer.Context,
    name: str,
    prep: int = typer.Option(..., "--prep", help="The data-preparation cube's id."),
    training_cube: int = typer.Option(
        ..., "--training-cube", help="The training cube's id (a Flower app)."
    ),
    plan: Path = typer.Option(..., "--plan", help="The plan: a YAML or JSON file."),
    aggregator: str = typer.Option(..., "--aggregator", help="The aggregator's name or id."),
    description: str = typer.Option("", "--description"),
    auto_approval: AutoApprovalMode = typer.Option(
        AutoApprovalMode.NEVER, "--auto-approval", help="never, always or allowlist."
    ),
    auto_approval_users: str | None = typer.Option(
        None, "--auto-approval-users", help="For allowlist: NAME,NAME,..."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Check the training cube against the plan, then submit the experiment."""
    session: Session = ctx.obj
    rule = auto_approval_rule(auto_approval, auto_approval_users)
    read = read_plan(plan)
    with session.client() as client:
        session.err.print(f"checking training cube {training_cube} against {plan}", markup=False)
        experiment = register_experiment(
            session.executor(client),
            name=name,
            description=description,
            data_preparator_id=prep,
            training_cube_id=training_cube,
            plan=read,
            aggregator=aggregator,
            auto_approval=rule,
        )
    session.err.print(
        f"training experiment {experiment.id} ({experiment.name}) submitted; an admin approves it"
    )
    session.render(fmt, experiment, table=lambda: None)  # the line above says it


def _fingerprint(pem: str | None) -> str | None:
    """How a certificate shows in a table: the sha256 of its PEM text."""
    return None if pem is None else f"sha256 {hashlib.sha256(pem.encode()).hexdigest()}"


def print_experiment(
    session: Session, experiment: TrainingExperimentPublic, aggregator: AggregatorPublic
) -> None:
    """The experiment (certificates by their fingerprints), its plan, its privacy, and
    where model updates go."""
    shown = experiment.model_copy(
        update={
            "ca_certificate_pem": _fingerprint(experiment.ca_certificate_pem),
            "aggregator_certificate_pem": _fingerprint(experiment.aggregator_certificate_pem),
        }
    )
    session.out.print(record_table(shown, f"training experiment {experiment.name}"))
    session.out.print(record_table(experiment.plan, "plan"))
    for line in experiment.plan.privacy_lines():
        session.out.print(line, markup=False, highlight=False)
    session.out.print(
        f"model updates go to aggregator {aggregator.name} at {aggregator.address}:"
        f"{aggregator.port} (run by {aggregator.owner})",
        markup=False,
        highlight=False,
    )


@app.command("show")
def show(
    ctx: typer.Context, experiment: str = ExperimentArgument, fmt: OutputFormat = FormatOption
) -> None:
    """One experiment: its cubes, aggregator, plan and privacy settings, and its state."""
    session: Session = ctx.obj
    with session.client() as client:
        found = find_experiment(client, experiment)
        aggregator = client.training.aggregator(found.aggregator_id)
    session.render(fmt, found, lambda: print_experiment(session, found, aggregator))


@app.command("list")
def list_experiments(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """The experiments this account may see (approved ones, and its own)."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.training.experiments()
    session.show(rows, fmt, EXPERIMENT_COLUMNS, "training experiments")


def _decide(ctx: typer.Context, experiment: str, status: ApprovalStatus, yes: bool) -> None:
    session: Session = ctx.obj
    with session.client() as client:
        found = find_experiment(client, experiment)
        verb = "Approve" if status is ApprovalStatus.APPROVED else "Reject"
        session.confirm(f"{verb} training experiment {found.id} ({found.name})?", yes)
        decided = client.training.decide_experiment(found.id, status)
    session.err.print(
        f"training experiment {decided.id} ({decided.name}) is {decided.approval.value}"
    )


@app.command("approve")
def approve(
    ctx: typer.Context, experiment: str = ExperimentArgument, yes: bool = YesOption
) -> None:
    """Approve a submitted experiment (admins)."""
    _decide(ctx, experiment, ApprovalStatus.APPROVED, yes)


@app.command("reject")
def reject(ctx: typer.Context, experiment: str = ExperimentArgument, yes: bool = YesOption) -> None:
    """Reject a submitted experiment (admins)."""
    _decide(ctx, experiment, ApprovalStatus.REJECTED, yes)


@app.command("auto-approval")
def auto_approval(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    mode: AutoApprovalMode = typer.Argument(..., help="never, always or allowlist."),
    users: str | None = typer.Option(
        None, "--users", help="For allowlist: the users approved at once, NAME,NAME,..."
    ),
) -> None:
    """Approve sites at request time on your behalf (training owners), as for benchmarks."""
    session: Session = ctx.obj
    rule = auto_approval_rule(mode, users)
    with session.client() as client:
        found = find_experiment(client, experiment)
        changed = client.training.set_auto_approval(found.id, rule)
    listed = f" ({', '.join(rule.users)})" if rule.users else ""
    session.err.print(
        f"training experiment {changed.id}: auto-approval {rule.mode.value}{listed}",
        markup=False,
        highlight=False,
    )


training_sites.register(app)
app.command("run")(training_runs.run)
app.command("simulate")(training_simulate.simulate)
