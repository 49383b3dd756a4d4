"""How records, results, metrics and leaderboards look in a terminal.

A record (``show``) is rendered from its schema: every field the API exposes, in the
schema's order, so a new field shows there with no CLI edit. A list table shows a chosen
summary of a resource (``columns``), named next to its commands and checked against the
schema when the CLI is imported, so a renamed field fails loudly instead of showing "-";
a new field joins a list only where someone adds its name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.table import Table

from medval.core.documents import MetricValue, ResultDocument
from medval.core.schemas import LeaderboardPublic, PooledMetric, ResultPublic
from medval.core.states import ExecutionStatus

if TYPE_CHECKING:  # the session renders with these functions; only commands pass one here
    from medval.cli.context import Session

HEADLINE_METRICS = ("auroc", "sensitivity", "specificity", "calibration_slope", "oe_ratio")
HEADERS = {"calibration_slope": "calib. slope", "oe_ratio": "O:E ratio"}


def columns(schema: type[BaseModel], *names: str) -> list[str]:
    """A list table's columns: some of ``schema``'s fields, by name, checked now."""
    unknown = [name for name in names if name not in schema.model_fields]
    if unknown:
        raise ValueError(f"{schema.__name__} has no field {', '.join(unknown)}")
    return list(names)


def cell(value: Any) -> str:
    """One value as a table shows it (JSON values already: enums and dates are strings)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))[:120]
    return str(value)


def record_table(record: BaseModel, title: str | None = None) -> Table:
    """Every field of one record, one per line."""
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in record.model_dump(mode="json").items():
        table.add_row(key, cell(value))
    return table


def rows_table(
    rows: Sequence[BaseModel], names: Sequence[str] | None = None, title: str | None = None
) -> Table:
    """Records as rows: the given columns, or every field of the rows' schema."""
    table = Table(title=title, show_lines=False)
    names = list(names or (type(rows[0]).model_fields if rows else []))
    for name in names:
        table.add_column(name)
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*(cell(data.get(name)) for name in names))
    return table


def interval(metric: MetricValue | PooledMetric | None, stacked: bool = False) -> str:
    """``0.712 [0.650, 0.770]``: the estimate with its 95% interval (stacked: two lines)."""
    if metric is None:
        return "-"
    if metric.lower is None or metric.upper is None:
        return f"{metric.value:.3f}"
    separator = "\n" if stacked else " "
    return f"{metric.value:.3f}{separator}[{metric.lower:.3f}, {metric.upper:.3f}]"


def print_result_document(session: Session, document: ResultDocument, title: str) -> None:
    table = Table(title=f"{title}: {document.n_cases} cases, {document.n_positive} events")
    table.add_column("metric")
    table.add_column("estimate (95% CI)")
    for name, metric in document.metrics.items():
        table.add_row(name, interval(metric))
    session.err.print(table)  # informational; stdout stays clean for --format json


class ResultRow(BaseModel):
    id: int
    benchmark_id: int
    model: str
    dataset: str
    status: str  # "succeeded", or "failed: " and its one-line reason
    n_cases: int | None
    auroc: str
    sensitivity: str
    specificity: str


def status_text(status: ExecutionStatus, failure: str | None) -> str:
    """How a table shows an execution's end: ``succeeded``, or ``failed: REASON``."""
    return f"{status.value}: {failure}" if failure else status.value


def result_rows(results: Sequence[ResultPublic]) -> list[ResultRow]:
    rows = []
    for r in results:
        metrics = r.document.metrics if r.document is not None else {}
        rows.append(
            ResultRow(
                id=r.id,
                benchmark_id=r.benchmark_id,
                model=r.model,
                dataset=r.dataset,
                status=status_text(r.status, r.failure),
                n_cases=r.document.n_cases if r.document is not None else None,
                auroc=interval(metrics.get("auroc")),
                sensitivity=interval(metrics.get("sensitivity")),
                specificity=interval(metrics.get("specificity")),
            )
        )
    return rows


def print_leaderboard(session: Session, board: LeaderboardPublic) -> None:
    """Across sites (random-effects pooled) first, then each site's own estimates."""
    pooled = Table(
        title=f"{board.benchmark}: across sites (random-effects pooled, 95% CI), "
        f"ranked by {board.primary_metric}"
    )
    for column in ("rank", "model", "owner", "sites", "cases", *HEADLINE_METRICS, "I² auroc"):
        # Names stay whole; the intervals wrap instead.
        pooled.add_column(
            column, no_wrap=True, min_width=14 if column in HEADLINE_METRICS else None
        )
    for rank, entry in enumerate(board.entries, start=1):
        auroc = entry.pooled.get("auroc")
        i2 = "-" if auroc is None or auroc.i_squared is None else f"{auroc.i_squared:.0%}"
        pooled.add_row(
            str(rank),
            entry.model,
            entry.model_owner,
            f"{entry.n_sites} ({entry.n_failed} failed)" if entry.n_failed else str(entry.n_sites),
            str(entry.n_cases),
            *(interval(entry.pooled.get(name), stacked=True) for name in HEADLINE_METRICS),
            i2,
        )
    session.out.print(pooled)
    if not any(entry.sites for entry in board.entries):
        session.out.print("(per-site results are not released to this account)")
        return
    sites = Table(title="per site (each site's own 95% CI)")
    for column in ("model", "site", "cases", *HEADLINE_METRICS):
        sites.add_column(
            HEADERS.get(column, column),
            no_wrap=True,
            min_width=14 if column in HEADLINE_METRICS else None,
        )
    for entry in board.entries:
        for site in entry.sites:
            sites.add_row(
                entry.model,
                site.dataset,
                str(site.n_cases),
                *(interval(site.metrics.get(name), stacked=True) for name in HEADLINE_METRICS),
            )
    session.out.print(sites)
