"""The leaderboard: each model's results pooled across sites, shown per the release policy.

The benchmark's declared metrics are pooled and shown, in the declared order, each on its
declared scale (a proportion from the sites' counts where its declared count, ``of``,
determines it: :mod:`medval.stats.pooling`); the declared primary metric ranks, in its
declared direction. A benchmark that declares none (registered before declarations) shows
every metric its evaluator reports, as :func:`~medval.core.declarations.inferred_metrics`
declares them. A site
whose value is missing (NaN at the site) is not pooled; a metric missing at every site
has no pooled value. The pooled case count is None unless every site reported one.

Only succeeded executions are pooled; failed ones are counted (``n_failed``), so that a
model that fails at some sites does not look as if it had been run at fewer.

A model with results from fewer sites than the benchmark's ``min_sites`` has no pooled
figure and no case count on the board, and no site's result, except for the benchmark
owner (everything) and a site's data owner (that site's); ``withheld`` says why
(:mod:`medval.server.services.release`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from medval.core.declarations import MetricDeclaration, inferred_metrics, primary_of
from medval.core.documents import MetricValue
from medval.core.errors import NotAuthenticated, PermissionDenied
from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic, LeaderboardSite
from medval.core.states import ReleasePolicy
from medval.server.services.benchmarks import can_see_benchmark, visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.release import (
    can_see_leaderboard,
    can_see_result,
    is_released,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, CubeRecord, ResultRecord, UserRecord
from medval.stats.pooling import SiteCounts, pool_metric
from medval.stats.ranks import Estimate, rank_models


def leaderboard(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int
) -> LeaderboardPublic:
    with ctx.store.transaction() as tx:
        benchmark = leaderboard_benchmark(tx, caller, benchmark_id)
        results = tx.list_results(benchmark_id=benchmark.id)
        model_ids = {r.model_id for r in results}
        models = {c.id: c for i in model_ids if (c := tx.cube(i)) is not None}
    by_model: dict[int, list[ResultRecord]] = defaultdict(list)
    for result in results:
        by_model[result.model_id].append(result)
    declared = declared_metrics(benchmark, results)
    entries = []
    for model_id, rows in by_model.items():
        entries.append(_entry(caller, benchmark, rows, models.get(model_id), declared))
    ranking = primary_of(declared)
    primary = ranking.name if ranking else None
    higher = ranking.higher_is_better if ranking else True
    entries.sort(key=lambda entry: _rank(entry, primary, higher))
    entries = _with_ranks(entries, ranking)
    return LeaderboardPublic(
        benchmark_id=benchmark.id,
        benchmark=benchmark.name,
        release_policy=benchmark.release_policy,
        declared=declared,
        metrics=[m.name for m in declared],
        primary_metric=primary,
        higher_is_better=higher,
        entries=entries,
    )


def declared_metrics(
    benchmark: BenchmarkRecord, results: Iterable[ResultRecord]
) -> list[MetricDeclaration]:
    """The benchmark's declared metrics, or (declaring none) every metric its results
    report, in the evaluator's order, as inferred."""
    if benchmark.metrics:
        return list(benchmark.metrics)
    return inferred_metrics(
        [name for r in results if r.document is not None for name in r.document.metrics]
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


def _entry(
    caller: UserRecord | None,
    benchmark: BenchmarkRecord,
    rows: list[ResultRecord],
    model: CubeRecord | None,
    declared: list[MetricDeclaration],
) -> LeaderboardEntry:
    succeeded = [(row, row.document) for row in rows if row.document is not None]
    by_name = {m.name: m for m in declared}
    values: dict[str, list[MetricValue]] = defaultdict(list)
    counts: dict[str, list[SiteCounts | None]] = defaultdict(list)
    for _, document in succeeded:
        for name, value in document.metrics.items():
            if value.value is not None and name in by_name:
                values[name].append(value)
                counts[name].append(SiteCounts(document.n_cases, document.n_positive))
    n_sites = len({row.dataset_id for row, _ in succeeded})
    sites = [
        LeaderboardSite(
            dataset_id=row.dataset_id,
            dataset=row.dataset,
            n_cases=document.n_cases,
            metrics={n: v for n, v in document.metrics.items() if n in by_name},
        )
        for row, document in succeeded
        if can_see_result(caller, row, benchmark, n_sites)
    ]
    # Nothing to withhold without a succeeded site (failures are counted, never pooled).
    released = (
        n_sites == 0
        or is_released(benchmark, n_sites)
        or (caller is not None and caller.id == benchmark.owner_id)
    )
    return LeaderboardEntry(
        model_id=rows[0].model_id,
        model=rows[0].model,
        model_owner=model.owner if model else "",
        model_invalidated_at=model.invalidated_at if model else None,
        n_sites=n_sites,
        n_failed=len(rows) - len(succeeded),
        n_cases=_total(document.n_cases for _, document in succeeded) if released else None,
        pooled=(
            {
                name: pool_metric(name, values[name], counts[name], declared=by_name[name])
                for name in by_name
                if values[name]
            }
            if released
            else {}
        ),
        sites=sites,
        withheld=None
        if released
        else (
            f"results from {n_sites} site(s), fewer than the {benchmark.min_sites} "
            "this benchmark releases pooled figures from"
        ),
    )


def _is_public(benchmark: BenchmarkRecord | None) -> bool:
    return benchmark is not None and can_see_benchmark(None, benchmark)


def _total(counts: Iterable[int | None]) -> int | None:
    known = list(counts)
    return None if any(n is None for n in known) else sum(n for n in known if n is not None)


def _rank(entry: LeaderboardEntry, primary: str | None, higher: bool) -> tuple[bool, float, str]:
    """Best primary metric first; models without it last, by name."""
    best = entry.pooled.get(primary) if primary else None
    value = best.value if best else 0.0
    return (best is None, -value if higher else value, entry.model)


def _with_ranks(
    entries: list[LeaderboardEntry], ranking: MetricDeclaration | None
) -> list[LeaderboardEntry]:
    """Each entry with its rank, rank interval and tie (:mod:`medval.stats.ranks`), by the
    declared primary metric: its direction and its pooling scale."""
    if ranking is None:
        return entries
    pooled = [entry.pooled.get(ranking.name) for entry in entries]
    infos = rank_models(
        ranking.name,
        [Estimate(p.value, p.lower, p.upper) if p else Estimate(None, None, None) for p in pooled],
        ranking.higher_is_better,
        declared=ranking,
    )
    return [
        entry.model_copy(
            update={
                "rank": info.rank,
                "rank_lower": info.rank_lower,
                "rank_upper": info.rank_upper,
                "tied": info.tied,
                "p_first": info.p_first,
            }
        )
        for entry, info in zip(entries, infos, strict=True)
    ]


def _audience(policy: ReleasePolicy) -> str:
    if policy is ReleasePolicy.PRIVATE:
        return "the benchmark owner and admins"
    return "the benchmark owner, admins and participants"
