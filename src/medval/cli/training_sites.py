"""``medval training join|sites|approve-site|reject-site|revoke-site|rounds``: the sites
of a training experiment (data owners join; training owners decide) and its rounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import typer
from pydantic import BaseModel
from rich.table import Table

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.data_policies import policy_changes
from medval.cli.flat_rows import round_rows
from medval.cli.render import cell, columns
from medval.client.audit_log import record
from medval.client.settings import require_login
from medval.client.training_experiments import find_experiment
from medval.client.training_sites import (
    change_site_policy,
    dataset_id_of,
    decide_site,
    join_experiment,
)
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    RoundMetricsPublic,
    SiteRoundMetricsPublic,
    TrainingAssociationPublic,
)
from medval.trust.data_policy import clauses

SITE_COLUMNS = columns(
    TrainingAssociationPublic,
    "id",
    "dataset_id",
    "dataset",
    "dataset_owner",
    "status",
    "initiated_by",
    "decided_by",
)
ExperimentArgument = typer.Argument(..., help="The experiment's name or id.")


def requested(association: TrainingAssociationPublic) -> str:
    again = " again" if len(association.history) > 1 else ""
    return f"requested{again}: {association.status.value}"


def join(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = typer.Option(
        ..., "--dataset", "-d", help="A registered dataset: its id, or its local name."
    ),
    new_key: bool = typer.Option(
        False, "--new-key", help="Make a new node key instead of the one kept here."
    ),
    yes: bool = YesOption,
) -> None:
    """Ask an experiment to include a dataset of yours, with a node key made here (its
    private key stays on this machine); the training owner decides."""
    session: Session = ctx.obj
    dataset_id = dataset_id_of(session.workspace, dataset)
    username = require_login(session.settings).username
    with session.client() as client:
        found = find_experiment(client, experiment)
        session.confirm(
            f"Ask training experiment {found.name} to include dataset {dataset_id}?", yes
        )
        joined = join_experiment(
            client, session.settings, username, found, dataset_id, new_key=new_key
        )
    association = joined.association
    record(
        session.audit_log(),
        "request",
        "training_association",
        str(association.id),
        association,
    )
    session.err.print(
        f"training association {association.id} {requested(association)}", markup=False
    )
    made = "made" if joined.key.made else "kept"
    session.note(f"node key {made} at {joined.key.private_key} (never sent)")


def sites(
    ctx: typer.Context, experiment: str = ExperimentArgument, fmt: OutputFormat = FormatOption
) -> None:
    """The datasets that asked to join (all of them for the training owner; yours for you)."""
    session: Session = ctx.obj
    with session.client() as client:
        found = find_experiment(client, experiment)
        rows = client.training.associations(experiment_id=found.id)
    session.show(rows, fmt, SITE_COLUMNS, "sites")


def _decide(
    ctx: typer.Context, experiment: str, dataset: str, status: ApprovalStatus, yes: bool
) -> None:
    session: Session = ctx.obj
    verb = {"approved": "Approve", "rejected": "Reject", "revoked": "Revoke"}[status.value]
    with session.client() as client:
        found = find_experiment(client, experiment)
        session.confirm(f"{verb} dataset {dataset} on training experiment {found.name}?", yes)
        association = decide_site(client, found, dataset, status)
    record(
        session.audit_log(),
        status.value,
        "training_association",
        str(association.id),
        association,
    )
    session.err.print(
        f"training association {association.id} (dataset {association.dataset}) is "
        f"{association.status.value}",
        markup=False,
    )


DatasetOption = typer.Option(
    ..., "--dataset", "-d", help="The dataset's id, or its name (when one of that name asked)."
)


def approve_site(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = DatasetOption,
    yes: bool = YesOption,
) -> None:
    """Accept a dataset into your experiment (training owners)."""
    _decide(ctx, experiment, dataset, ApprovalStatus.APPROVED, yes)


def reject_site(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = DatasetOption,
    yes: bool = YesOption,
) -> None:
    """Turn down a dataset's request to join your experiment (training owners)."""
    _decide(ctx, experiment, dataset, ApprovalStatus.REJECTED, yes)


def revoke_site(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = DatasetOption,
    yes: bool = YesOption,
) -> None:
    """Withdraw a site (the training owner, or the dataset's owner): the aggregator no
    longer admits its node. It may ask again later."""
    _decide(ctx, experiment, dataset, ApprovalStatus.REVOKED, yes)


def site_policy(
    ctx: typer.Context,
    experiment: str = ExperimentArgument,
    dataset: str = DatasetOption,
    training_owners: str | None = typer.Option(
        None, "--model-owners", help="Only these training owners' experiments: NAME,NAME,..."
    ),
    anyone: bool = typer.Option(False, "--anyone", help="Any training owner (the default)."),
    max_runs: int | None = typer.Option(
        None, "--max-runs", help="How many experiments of one training cube may train on it."
    ),
    unlimited: bool = typer.Option(False, "--unlimited", help="No limit (the default)."),
    expires: str | None = typer.Option(
        None, "--expires", help="From this day (YYYY-MM-DD, UTC) on, the site is not admitted."
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="No expiry (the default)."),
) -> None:
    """Your terms on a dataset's part in an experiment (data owners), as for benchmarks:
    the training owner stands where a model owner does. Only the clauses named change."""
    session: Session = ctx.obj
    changes = policy_changes(training_owners, anyone, max_runs, unlimited, expires, no_expiry)
    with session.client() as client:
        found = find_experiment(client, experiment)
        association = change_site_policy(client, found, dataset, changes)
    session.err.print(
        f"training association {association.id} (dataset {association.dataset}): "
        + "; ".join(f"{name}: {value}" for name, value in clauses(association.policy)),
        markup=False,
        highlight=False,
    )


def metrics_table(
    rows: Sequence[tuple[Sequence[str], Mapping[str, float | int]]],
    keys: Sequence[str],
    title: str,
) -> Table:
    """One row per round (``keys`` name the leading columns), one column per metric, in
    the order the metrics first appear."""
    names: list[str] = []
    for _, metrics in rows:
        names += [name for name in metrics if name not in names]
    table = Table(title=title)
    for column in (*keys, *names):
        table.add_column(column)
    for leading, metrics in rows:
        table.add_row(*leading, *(cell(metrics.get(name)) for name in names))
    return table


def rounds(
    ctx: typer.Context, experiment: str = ExperimentArgument, fmt: OutputFormat = FormatOption
) -> None:
    """Each round's metrics aggregated across sites; and each site's own where you may
    see them (yours; every site's for the training owner).

    --format csv: one row per round, aggregated (no dataset) and then each site's."""
    session: Session = ctx.obj
    with session.client() as client:
        found = find_experiment(client, experiment)
        aggregated = client.training.rounds(found.id)
        per_site = client.training.site_rounds(found.id)
    session.render(
        fmt,
        RoundsPublic(rounds=aggregated, sites=per_site),
        lambda: _rounds_tables(session, found.name, aggregated, per_site),
        lambda: round_rows(aggregated, per_site),
    )


class RoundsPublic(BaseModel):
    """What ``--format json`` gives: the aggregated rounds, and each site's own."""

    rounds: list[RoundMetricsPublic]
    sites: list[SiteRoundMetricsPublic]


def _rounds_tables(
    session: Session,
    name: str,
    aggregated: Sequence[RoundMetricsPublic],
    per_site: Sequence[SiteRoundMetricsPublic],
) -> None:
    if not aggregated:
        session.out.print("(no rounds reported yet)")
    else:
        rows = [((str(r.round),), r.metrics) for r in aggregated]
        session.out.print(metrics_table(rows, ("round",), f"rounds of {name}"))
    if per_site:
        site_rows = [((str(r.round), f"{r.dataset} ({r.dataset_id})"), r.metrics) for r in per_site]
        session.out.print(metrics_table(site_rows, ("round", "site"), "each site's own"))


def register(app: typer.Typer) -> None:
    app.command("join")(join)
    app.command("sites")(sites)
    app.command("approve-site")(approve_site)
    app.command("reject-site")(reject_site)
    app.command("revoke-site")(revoke_site)
    app.command("site-policy")(site_policy)
    app.command("rounds")(rounds)
