"""How a benchmark's leaderboard looks in a terminal: the models across sites (pooled, ranked
with their rank intervals, ties as ties), then each site's own estimates, with the metrics
the benchmark declares (:mod:`medval.cli.render` says which are shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from medval.cli.render import count, interval, metric_column, more_metrics, shown_metrics
from medval.core.phases import DEFAULT_PHASE

if TYPE_CHECKING:
    from medval.cli.context import Session
    from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic


def _model_label(entry: LeaderboardEntry) -> str:
    """A model's name, marked when it was invalidated (its results stay in the record)."""
    return f"{entry.model} (invalidated)" if entry.model_invalidated_at else entry.model


RANK_NOTE = "rank: 1= tied (cannot be told apart), (1-3) its 95% rank interval"


def _with_rank_note(caption: str | None) -> str:
    return f"{caption}; {RANK_NOTE}" if caption else RANK_NOTE


def pooling_notes(board: LeaderboardPublic) -> list[str]:
    """The caption's lines on the primary metric: how it was pooled (where a pooled figure
    says), and what its new-site column is."""
    if not board.primary_metric:
        return []
    label = board.label(board.primary_metric)
    ways = board.primary_pooling()
    return [
        *([f"{label}: {ways}"] if ways else []),
        f"new site (95% PI): the prediction interval, where {label} at a new site would "
        "fall; from three sites on",
    ]


def _owner_label(entry: LeaderboardEntry) -> str:
    """The owner, and how many entries it made in the phase when more than this one
    (the one that counts: core.quotas)."""
    if entry.n_entries > 1:
        return f"{entry.model_owner} (1 of {entry.n_entries} entries)"
    return entry.model_owner


def print_leaderboard(session: Session, board: LeaderboardPublic) -> None:
    """Across sites (random-effects pooled) first, then each site's own estimates."""
    primary = board.primary_metric
    shown, hidden = shown_metrics(board.metrics, primary)
    direction = "higher" if board.higher_is_better else "lower"
    ranking = (
        f"ranked by {board.label(primary)} ({direction} is better)" if primary else "no metrics yet"
    )
    # A benchmark of one phase reads as before; with phases, which one this board is.
    if board.phase and (board.phase != DEFAULT_PHASE or board.archived_hash):
        closed = " (closed: the archived board)" if board.archived_hash else ""
        session.out.print(f"phase {board.phase}{closed}")
    pooled = Table(
        title=f"{board.benchmark}: across sites (random-effects pooled, 95% CI), {ranking}",
        caption="\n".join([_with_rank_note(more_metrics(hidden)), *pooling_notes(board)]),
    )
    for column in ("rank", "model", "owner", "sites", "cases"):
        pooled.add_column(column, no_wrap=True)
    for name in shown:
        metric_column(pooled, board.label(name))
    if primary:
        pooled.add_column(f"I² {board.label(primary)}", no_wrap=True)
        pooled.add_column("new site (95% PI)", no_wrap=True)
    for entry in board.entries:
        best = entry.pooled.get(primary) if primary else None
        i2 = "-" if best is None or best.i_squared is None else f"{best.i_squared:.0%}"
        new_site = (best.prediction_label() if best else "") or "-"
        pooled.add_row(
            entry.rank_label() or "-",
            _model_label(entry),
            _owner_label(entry),
            f"{entry.n_sites} ({entry.n_failed} failed)" if entry.n_failed else str(entry.n_sites),
            count(entry.n_cases),
            *(interval(entry.pooled.get(name), stacked=True) for name in shown),
            *([i2, new_site] if primary else []),
        )
    session.out.print(pooled)
    for entry in board.entries:
        if entry.withheld:
            session.out.print(f"{_model_label(entry)}: pooled figures withheld ({entry.withheld})")
    if board.archived_hash:
        session.out.print(f"archived when phase {board.phase} closed: sha256 {board.archived_hash}")
    if not any(entry.sites for entry in board.entries):
        session.out.print("(per-site results are not released to this account)")
        return
    sites = Table(title="per site (each site's own 95% CI)", caption=more_metrics(hidden))
    for column in ("model", "site", "cases"):
        sites.add_column(column, no_wrap=True)
    for name in shown:
        metric_column(sites, board.label(name))
    for entry in board.entries:
        for site in entry.sites:
            sites.add_row(
                _model_label(entry),
                site.dataset,
                count(site.n_cases),
                *(interval(site.metrics.get(name), stacked=True) for name in shown),
            )
    session.out.print(sites)
