"""How the shift between a benchmark's sites looks in a terminal: per site, one line that
says whether it is flagged and why, its performance (each model's primary metric at that
site, from the leaderboard, where it is released to the caller), then a table of every
comparison, and at the end each measure's threshold with its source."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from medval.cli.render import count, interval
from medval.core.result_schemas import LeaderboardPublic
from medval.core.shift_schemas import (
    BenchmarkShiftPublic,
    ShiftComparison,
    ShiftVariableKind,
    SiteShiftPublic,
)

if TYPE_CHECKING:
    from medval.cli.context import Session


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _crossed(comparison: ShiftComparison) -> str:
    return (
        f"{comparison.variable} {comparison.measure.value} {comparison.value:.3f} "
        f">= {comparison.threshold:g}"
    )


def verdict(site: SiteShiftPublic) -> str:
    """The site's one line: flagged (and by what), not flagged, or why nothing is shown."""
    if site.withheld:
        return f"{site.dataset}: not compared ({site.withheld})"
    if not site.flagged:
        return f"{site.dataset}: not flagged"
    crossed = "; ".join(_crossed(c) for c in site.comparisons if c.flagged)
    return f"{site.dataset}: FLAGGED, a marked shift: {crossed}"


def performance(site: SiteShiftPublic, board: LeaderboardPublic | None) -> str:
    """Each model's primary metric at this site, where the leaderboard (of a phase) shows
    it."""
    primary = board.primary_metric if board else None
    if board is None or primary is None or not board.entries:
        return f"performance{_in(board)}: no results yet"
    figures = [
        f"{entry.model} {interval(s.metrics.get(primary))}"
        for entry in board.entries
        for s in entry.sites
        if s.dataset_id == site.dataset_id
    ]
    if not figures:
        return (
            f"performance{_in(board)} ({primary}): no result of this site is released to this "
            "account"
        )
    return f"performance{_in(board)} ({primary}): " + "; ".join(figures)


def _in(board: LeaderboardPublic | None) -> str:
    return f" in phase {board.phase}" if board is not None and board.phase else ""


def _bins(comparison: ShiftComparison, side: str) -> str:
    if side == "site":
        return ", ".join(
            f"{b.name} {count(b.site_count)} ({_share(b.site_share)})" for b in comparison.bins
        )
    return ", ".join(f"{b.name} {_share(b.others_share)}" for b in comparison.bins)


def comparisons_table(site: SiteShiftPublic) -> Table:
    table = Table(
        title=f"{site.dataset}: {count(site.n_cases)} cases against "
        f"{site.n_reference_sites} other site(s) pooled"
    )
    for column in ("variable", "measure", "value", "threshold", "flagged", "site", "others"):
        table.add_column(column)
    for c in site.comparisons:
        categorical = c.kind is ShiftVariableKind.CATEGORICAL
        table.add_row(
            c.variable,
            c.measure.value,
            f"{c.value:.3f}",
            "-" if c.threshold is None else f"{c.threshold:g}",
            "yes" if c.flagged else "no",
            _bins(c, "site") if categorical else _number(c.site_value),
            _bins(c, "others") if categorical else _number(c.others_value),
        )
    return table


def print_shift(
    session: Session, shift: BenchmarkShiftPublic, board: LeaderboardPublic | None
) -> None:
    session.out.print(
        f"{shift.benchmark}: {shift.n_sites} site(s), each against the others pooled "
        f"(counts below {shift.min_cell_count} are not shown)"
    )
    if not shift.sites:
        session.out.print("(no site's figures are released to this account)")
    for site in shift.sites:
        session.out.print(verdict(site))
        session.out.print(performance(site, board))
        if site.comparisons:
            session.out.print(comparisons_table(site))
        for name, why in site.not_compared.items():
            session.out.print(f"  not compared: {name} ({why})")
    for threshold in shift.thresholds:
        marked = "never flags" if threshold.marked is None else f"flags at >= {threshold.marked:g}"
        session.out.print(f"{threshold.measure.value}: {marked}: {threshold.source}")
