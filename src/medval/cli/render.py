"""How results, metrics and leaderboards look in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from rich.table import Table

from medval.cli.context import Session
from medval.core.documents import MetricValue, ResultDocument
from medval.core.schemas import LeaderboardPublic, PooledMetric, ResultPublic

HEADLINE_METRICS = ("auroc", "sensitivity", "specificity", "calibration_slope", "oe_ratio")
HEADERS = {"calibration_slope": "calib. slope", "oe_ratio": "O:E ratio"}


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
    n_cases: int
    auroc: str
    sensitivity: str
    specificity: str


def result_rows(results: Sequence[ResultPublic]) -> list[ResultRow]:
    return [
        ResultRow(
            id=r.id,
            benchmark_id=r.benchmark_id,
            model=r.model,
            dataset=r.dataset,
            n_cases=r.document.n_cases,
            auroc=interval(r.document.metrics.get("auroc")),
            sensitivity=interval(r.document.metrics.get("sensitivity")),
            specificity=interval(r.document.metrics.get("specificity")),
        )
        for r in results
    ]


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
            str(entry.n_sites),
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
