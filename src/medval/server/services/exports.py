"""The tables a benchmark's committee (or an admin) exports as CSV (issue 19): its
participation (``participation``) and its released results, here.

The results table holds one row per result shown on its phase's board (published, or in an
automatic phase: never a held or withheld one) of a model whose results in that phase
are released (from at least the benchmark's ``min_sites`` sites, ``services.release``),
as the leaderboard shows each site's: the phase, the model, the dataset and its site, the
metrics with their intervals, the case count and the dates. Never a subgroup's cells or
any per-case data. A model's results below ``min_sites`` are not released, so they are
not exported either: an exported file leaves the server's release policy behind.
"""

from __future__ import annotations

from medval.core.participation_schemas import BenchmarkResultsExport, ResultExportRow
from medval.server.services.context import ServiceContext
from medval.server.services.expected_sites import committee_benchmark
from medval.server.services.release import is_released, site_count
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import ResultRecord, UserRecord


def released_results(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int
) -> BenchmarkResultsExport:
    """By result id."""
    with ctx.store.transaction() as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        results = [r for r in tx.list_results(benchmark.id) if r.publication.shown]
        sites = {
            (phase, model): site_count(tx, benchmark.id, model, phase)
            for phase, model in {(r.phase_id, r.model_id) for r in results}
        }
        names: dict[int, str] = {}
        rows = [
            _row(tx, result, names)
            for result in results
            if is_released(benchmark, sites[(result.phase_id, result.model_id)])
        ]
    return BenchmarkResultsExport(benchmark_id=benchmark.id, benchmark=benchmark.name, results=rows)


def _username(tx: StoreTransaction, user_id: int, names: dict[int, str]) -> str:
    if user_id not in names:
        user = tx.user(user_id)
        names[user_id] = user.username if user is not None else f"user {user_id}"
    return names[user_id]


def _row(tx: StoreTransaction, result: ResultRecord, names: dict[int, str]) -> ResultExportRow:
    document = result.document
    return ResultExportRow(
        result_id=result.id,
        phase=result.phase,
        model_id=result.model_id,
        model=result.model,
        model_owner=_username(tx, result.model_owner_id, names),
        dataset_id=result.dataset_id,
        dataset=result.dataset,
        site=_username(tx, result.dataset_owner_id, names),
        status=result.status,
        failure=result.failure,
        n_cases=document.n_cases if document is not None else None,
        metrics=dict(document.metrics) if document is not None else {},
        executed_at=result.executed_at,
        created_at=result.created_at,
    )
