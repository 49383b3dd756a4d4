"""``medval dataset policy show|set``: a data owner's terms on a dataset's associations;
``medval benchmark policies``: every dataset's terms on a benchmark, as the caller may
see them (whole for the two sides, the clauses that concern them for a model owner)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.client.data_policies import change_policy, dataset_associations
from medval.core.errors import InvalidInput
from medval.trust.data_policy import clauses

if TYPE_CHECKING:
    from medval.core.membership_schemas import DatasetTermsPublic
    from medval.core.schemas import AssociationPublic

policy_app = typer.Typer(
    help="Your terms on a dataset's association with a benchmark (data owners).",
    no_args_is_help=True,
)


@policy_app.command("show")
def show(
    ctx: typer.Context,
    dataset_id: int,
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """The policy of each of the dataset's associations (data and benchmark owners)."""
    session: Session = ctx.obj
    with session.client() as client:
        associations = dataset_associations(client, dataset_id, benchmark_id)
    session.render(
        fmt,
        associations,
        lambda: _dataset_table(session, dataset_id, associations),
        lambda: _with_clauses(associations),
    )


def _dataset_table(
    session: Session, dataset_id: int, associations: Sequence[AssociationPublic]
) -> None:
    table = Table(title=f"data policies of dataset {dataset_id}")
    for column in ("association", "benchmark", "status", "model owners", "runs per model"):
        table.add_column(column)
    table.add_column("expires on")
    for association in associations:
        values = [value for _, value in clauses(association.policy)]
        table.add_row(
            str(association.id),
            str(association.benchmark_id),
            association.status.value,
            *values,
        )
    session.out.print(table)


def _with_clauses(
    records: Sequence[AssociationPublic | DatasetTermsPublic],
) -> list[dict[str, Any]]:
    """CSV rows: every field, and each clause in words as the table shows it."""
    return [
        {**record.model_dump(mode="json"), **dict(clauses(record.policy))} for record in records
    ]


@policy_app.command("set")
def set_policy(
    ctx: typer.Context,
    dataset_id: int,
    benchmark_id: int = typer.Option(..., "--benchmark", "-b"),
    model_owners: str | None = typer.Option(
        None, "--model-owners", help="Only these model owners' models may run: NAME,NAME,..."
    ),
    anyone: bool = typer.Option(
        False, "--anyone", help="Any model the committee approves may run (the default)."
    ),
    max_runs: int | None = typer.Option(
        None, "--max-runs", help="How many times one model may run on this dataset."
    ),
    unlimited: bool = typer.Option(False, "--unlimited", help="No limit on runs (the default)."),
    expires: str | None = typer.Option(
        None, "--expires", help="From this day (YYYY-MM-DD, UTC) on, nothing new runs."
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="No expiry (the default)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Change the clauses named; the others stay as they are."""
    session: Session = ctx.obj
    changes = policy_changes(model_owners, anyone, max_runs, unlimited, expires, no_expiry)
    with session.client() as client:
        association = change_policy(client, dataset_id, benchmark_id, changes)
    session.render(
        fmt,
        association,
        lambda: session.note(
            f"association {association.id} (dataset {association.entity_name}, benchmark "
            f"{association.benchmark_id}): "
            + "; ".join(f"{name}: {value}" for name, value in clauses(association.policy))
        ),
        lambda: _with_clauses([association]),
    )


def policy_changes(
    model_owners: str | None,
    anyone: bool,
    max_runs: int | None,
    unlimited: bool,
    expires: str | None,
    no_expiry: bool,
) -> dict[str, Any]:
    """The clauses named on the command line (``policy set``, ``training site-policy``),
    as clause name -> new value."""
    changes: dict[str, Any] = {}
    _one_of("--model-owners", model_owners is not None, "--anyone", anyone)
    _one_of("--max-runs", max_runs is not None, "--unlimited", unlimited)
    _one_of("--expires", expires is not None, "--no-expiry", no_expiry)
    if model_owners is not None:
        changes["model_owners"] = [n.strip() for n in model_owners.split(",") if n.strip()]
    if anyone:
        changes["model_owners"] = None
    if max_runs is not None or unlimited:
        changes["max_runs"] = max_runs
    if expires is not None:
        changes["expires_on"] = _day(expires)
    if no_expiry:
        changes["expires_on"] = None
    return changes


def benchmark_policies(
    ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption
) -> None:
    """The datasets' policies on a benchmark: whole for its owner and for your own
    datasets; for a model owner, the clauses that concern you."""
    session: Session = ctx.obj
    with session.client() as client:
        terms = client.membership.data_policies(benchmark_id)
    session.render(
        fmt,
        terms,
        lambda: _benchmark_table(session, benchmark_id, terms),
        lambda: _with_clauses(terms),
    )


def _benchmark_table(
    session: Session, benchmark_id: int, terms: Sequence[DatasetTermsPublic]
) -> None:
    if not terms:
        session.out.print("(no data policies)")
        return
    table = Table(title=f"data policies on benchmark {benchmark_id}")
    for column in ("dataset", "association", "status", "model owners", "runs per model"):
        table.add_column(column)
    table.add_column("expires on")
    for term in terms:
        values = [value for _, value in clauses(term.policy)]
        table.add_row(
            f"{term.dataset} ({term.dataset_id})",
            str(term.association_id),
            term.status.value,
            *values,
        )
    session.out.print(table)


def _one_of(first: str, given: bool, second: str, other: bool) -> None:
    if given and other:
        raise InvalidInput(f"{first} and {second} contradict each other; give one")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--expires takes a day as YYYY-MM-DD, not {text!r}") from None
