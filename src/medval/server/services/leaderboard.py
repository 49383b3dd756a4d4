"""The leaderboard: each model's results pooled across sites, shown per the release policy.

Each phase of a benchmark has its own board (``core.phases``); a closed phase's is the
one archived when it closed (``services.phase_boards``).

What pooling gives (``services.pooled_board``: which metrics, how each is pooled and
ranked, what is withheld below min_sites) is the same for every caller, and kept per
benchmark until its results change (``services.kept_boards``); what is released to whom
is applied here, per request (``services.release``). A model with results from fewer
sites than the benchmark's ``min_sites`` has no pooled figure and no case count on the
board, and no site's result, except for the benchmark owner (everything) and a site's
data owner (that site's); ``withheld`` says why.

Each model's sites (its per-site figures, as released to the caller) come only when
asked for (``with_sites``, ``?sites=true``): at 1,000 sites x 50 models they are 50,000
rows, megabytes that a ranking does not need.
"""

from __future__ import annotations

from collections import defaultdict

from medval.core.declarations import primary_of
from medval.core.errors import NotAuthenticated, PermissionDenied
from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic, LeaderboardSite
from medval.core.states import ReleasePolicy
from medval.server.services.benchmarks import can_see_benchmark, visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.kept_boards import BoardKey, PooledBoard
from medval.server.services.phase_boards import archived_leaderboard, board_phase
from medval.server.services.pooled_board import pooled_board
from medval.server.services.quotas import CountedRows, counting_rows
from medval.server.services.release import can_see_leaderboard, can_see_result
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    BenchmarkRecord,
    LeaderboardRow,
    PhaseRecord,
    UserRecord,
)


def leaderboard(
    ctx: ServiceContext,
    caller: UserRecord | None,
    benchmark_id: int,
    with_sites: bool = False,
    phase: str | None = None,
) -> LeaderboardPublic:
    """The board of the benchmark's phase ``phase`` (None: the one open now, else the
    last one) as released to ``caller``; ``with_sites``: each entry with its sites
    released to the caller too. A closed phase's board is the one archived when it
    closed, the same for everyone who may see the leaderboard, with its content hash."""
    with ctx.store.transaction() as tx:
        benchmark = leaderboard_benchmark(tx, caller, benchmark_id)
        shown = board_phase(tx, benchmark, phase, ctx.clock())
        if shown.closed_at is not None:
            return archived_leaderboard(tx, shown)
        return live_leaderboard(ctx, tx, caller, benchmark, shown, with_sites)


def live_leaderboard(
    ctx: ServiceContext,
    tx: StoreTransaction,
    caller: UserRecord | None,
    benchmark: BenchmarkRecord,
    phase: PhaseRecord,
    with_sites: bool,
) -> LeaderboardPublic:
    """The phase's board pooled from its results now (kept per phase until they change)."""
    # Read first: whatever is read after it is at least as new (see results_revision).
    revision = tx.results_revision(benchmark.id)

    def phase_rows() -> CountedRows:
        # Each owner's entry that counts only (services.quotas).
        return counting_rows(tx, benchmark, phase, tx.leaderboard_rows(benchmark.id, phase.id))

    counted = phase_rows() if with_sites else None
    if counted is not None and tx.results_revision(benchmark.id) != revision:
        # A result changed between the two reads: the sites read are newer than the
        # kept board; pool them, so that sites and pooled figures agree.
        board = pooled_board(tx, benchmark, counted.rows, entries_made=counted.entries_made)
    else:
        # Kept per phase: each phase is a board of its own.
        def make(earlier: PooledBoard | None) -> PooledBoard:
            read = counted if counted is not None else phase_rows()
            return pooled_board(tx, benchmark, read.rows, earlier, read.entries_made)

        board = ctx.boards.board(phase.id, BoardKey.of(benchmark, revision), make)
    entries = board.entries_for(caller, benchmark)
    if counted is not None:
        entries = _with_sites(caller, benchmark, board, entries, counted.rows)
    ranking = primary_of(board.declared)
    return LeaderboardPublic(
        benchmark_id=benchmark.id,
        benchmark=benchmark.name,
        release_policy=benchmark.release_policy,
        declared=board.declared,
        metrics=[m.name for m in board.declared],
        primary_metric=ranking.name if ranking else None,
        higher_is_better=ranking.higher_is_better if ranking else True,
        entries=entries,
        with_sites=with_sites,
        phase=phase.name,
    )


def leaderboard_benchmark(
    tx: StoreTransaction, caller: UserRecord | None, benchmark_id: int, what: str = "leaderboard"
) -> BenchmarkRecord:
    """The benchmark, if the caller may see its leaderboard (and so what goes with it,
    ``what``: its shift between sites too); otherwise the leaderboard's refusal."""
    if caller is None and not _is_public(tx.benchmark(benchmark_id)):
        # The same answer for unknown and non-public ids: anonymous callers learn nothing.
        raise NotAuthenticated(f"log in to see this {what}; it is not public")
    benchmark = visible_benchmark(tx, caller, benchmark_id)
    if not can_see_leaderboard(tx, caller, benchmark):
        raise PermissionDenied(
            f"the {what} of {benchmark.name} is released to "
            f"{_audience(benchmark.release_policy)} only"
        )
    return benchmark


def _with_sites(
    caller: UserRecord | None,
    benchmark: BenchmarkRecord,
    board: PooledBoard,
    entries: list[LeaderboardEntry],
    rows: list[LeaderboardRow],
) -> list[LeaderboardEntry]:
    """Each entry with its succeeded sites that ``caller`` may see (services.release),
    in the order they were first uploaded."""
    names = {m.name for m in board.declared}
    by_model: dict[int, list[LeaderboardRow]] = defaultdict(list)
    for row in rows:
        by_model[row.model_id].append(row)
    return [
        entry.model_copy(
            update={
                "sites": [
                    LeaderboardSite(
                        dataset_id=row.dataset_id,
                        dataset=row.dataset,
                        n_cases=row.document.n_cases,
                        metrics={n: v for n, v in row.document.metrics.items() if n in names},
                    )
                    for row in by_model[entry.model_id]
                    if row.document is not None
                    and can_see_result(caller, row, benchmark, entry.n_sites)
                ]
            }
        )
        for entry in entries
    ]


def _is_public(benchmark: BenchmarkRecord | None) -> bool:
    return benchmark is not None and can_see_benchmark(None, benchmark)


def _audience(policy: ReleasePolicy) -> str:
    if policy is ReleasePolicy.PRIVATE:
        return "the benchmark owner and admins"
    return "the benchmark owner, admins and participants"
