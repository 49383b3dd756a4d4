"""A benchmark's results by subgroup: for each model, each declared variable's levels
pooled across sites (:func:`medval.stats.pooling.pool_metric`, as the leaderboard pools),
and the gap between the levels (:mod:`medval.stats.subgroups`), released as the
leaderboard is.

Who sees what, with the rules that already hold:

- the benchmark: whoever may see its leaderboard (:func:`leaderboard_benchmark`);
- a model: its pooled figures once it has results from the benchmark's ``min_sites``
  sites (:func:`is_released`), as on the leaderboard; the benchmark owner always;
- a phase with a quota of models per owner: each owner's entry that counts only, as on
  its board (:func:`counting_rows`);
- a level: pooled only from ``min_sites`` sites or more that report it (else a pooled
  level would be one site's figure); the benchmark owner always.

Every level shown passed medval's small-cell rules at the site and on upload
(:mod:`medval.core.subgroup_cells`). The metrics are the benchmark's declared ones, else
those the evaluators report in their subgroups, in their order.
"""

from __future__ import annotations

from collections import defaultdict

from medval.core.declarations import SubgroupDeclaration
from medval.core.documents import MetricValue, ResultDocument
from medval.core.result_schemas import PooledMetric
from medval.core.subgroup_schemas import (
    BenchmarkSubgroupsPublic,
    SubgroupGapPublic,
    SubgroupLevelPublic,
    SubgroupModelPublic,
    SubgroupVariablePublic,
)
from medval.server.services.context import ServiceContext
from medval.server.services.leaderboard import leaderboard_benchmark
from medval.server.services.phase_boards import board_phase
from medval.server.services.quotas import counting_rows
from medval.server.services.release import is_released
from medval.server.store.records import BenchmarkRecord, ResultRecord, UserRecord
from medval.stats.pooling import SiteCounts, pool_metric, scale_for
from medval.stats.subgroups import subgroup_gap


def benchmark_subgroups(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int, phase_name: str | None = None
) -> BenchmarkSubgroupsPublic:
    """Of phase ``phase_name`` (None: the one the leaderboard shows by default)."""
    with ctx.store.transaction() as tx:
        benchmark = leaderboard_benchmark(tx, caller, benchmark_id, "subgroup breakdown")
        # The phase asked for (default: open now, else the last), and only what is
        # released by the release policy there: never a held or withheld result.
        phase = board_phase(tx, benchmark, phase_name, ctx.clock())
        results = [
            r
            for r in tx.list_results(benchmark_id=benchmark.id, phase_id=phase.id)
            if r.publication.shown
        ]
        if phase.max_models_per_owner is not None:
            # A phase with a models quota: each owner's entry that counts only, as on
            # its board (services.quotas).
            rows = tx.leaderboard_rows(benchmark.id, phase.id)
            counted = {row.model_id for row in counting_rows(tx, benchmark, phase, rows).rows}
            results = [r for r in results if r.model_id in counted]
    owner = caller is not None and caller.id == benchmark.owner_id
    by_model: dict[int, list[ResultRecord]] = defaultdict(list)
    for result in results:
        by_model[result.model_id].append(result)
    metrics = _metrics(benchmark, results)
    return BenchmarkSubgroupsPublic(
        benchmark_id=benchmark.id,
        benchmark=benchmark.name,
        release_policy=benchmark.release_policy,
        min_cell_count=benchmark.min_cell_count,
        min_sites=benchmark.min_sites,
        metrics=metrics,
        declared=benchmark.subgroups,
        phase=phase.name,
        models=[
            _model(benchmark, rows, metrics, owner)
            for _, rows in sorted(by_model.items(), key=lambda item: item[1][0].model)
        ],
    )


def _metrics(benchmark: BenchmarkRecord, results: list[ResultRecord]) -> list[str]:
    if benchmark.metrics:
        return [m.name for m in benchmark.metrics]
    return list(
        dict.fromkeys(
            name
            for r in results
            if r.document is not None
            for levels in (r.document.subgroups or {}).values()
            for level in levels.values()
            for name in level.metrics
        )
    )


def _model(
    benchmark: BenchmarkRecord, rows: list[ResultRecord], metrics: list[str], owner: bool
) -> SubgroupModelPublic:
    documents = {row.dataset_id: row.document for row in rows if row.document is not None}
    model = SubgroupModelPublic(
        model_id=rows[0].model_id, model=rows[0].model, n_sites=len(documents), variables=[]
    )
    if not (owner or is_released(benchmark, len(documents))):
        return model.model_copy(
            update={
                "withheld": (
                    f"results from {len(documents)} site(s), fewer than the "
                    f"{benchmark.min_sites} this benchmark releases pooled figures from"
                )
            }
        )
    variables = [
        _variable(benchmark, declaration, list(documents.values()), metrics, owner)
        for declaration in benchmark.subgroups
    ]
    return model.model_copy(update={"variables": variables})


def _variable(
    benchmark: BenchmarkRecord,
    declaration: SubgroupDeclaration,
    documents: list[ResultDocument],
    metrics: list[str],
    owner: bool,
) -> SubgroupVariablePublic:
    reported = [(d.subgroups or {}).get(declaration.name, {}) for d in documents]
    order = declaration.levels or list(dict.fromkeys(name for r in reported for name in r))
    levels: list[SubgroupLevelPublic] = []
    for name in order:
        sites = [r[name] for r in reported if name in r]
        if not sites:
            continue
        level = SubgroupLevelPublic(level=name, n_sites=len(sites), n_cases=None, pooled={})
        if not (owner or is_released(benchmark, len(sites))):
            levels.append(
                level.model_copy(
                    update={
                        "withheld": (
                            f"reported by {len(sites)} site(s), fewer than the "
                            f"{benchmark.min_sites} this benchmark releases pooled figures from"
                        )
                    }
                )
            )
            continue
        pooled: dict[str, PooledMetric] = {}
        for metric in metrics:
            values: list[MetricValue] = []
            counts: list[SiteCounts | None] = []
            for site in sites:
                value = site.metrics.get(metric)
                if value is not None and value.value is not None:
                    values.append(value)
                    counts.append(SiteCounts(site.n_cases, site.n_positive))
            if values:
                pooled[metric] = pool_metric(metric, values, counts)
        n_cases = sum(site.n_cases for site in sites)
        levels.append(level.model_copy(update={"n_cases": n_cases, "pooled": pooled}))
    gaps = []
    for metric in metrics:
        found = {lv.level: lv.pooled[metric] for lv in levels if metric in lv.pooled}
        gap = subgroup_gap(found, scale_for(metric))
        if gap is not None:
            gaps.append(
                SubgroupGapPublic(
                    metric=metric,
                    largest=gap.largest,
                    smallest=gap.smallest,
                    difference=gap.difference,
                    lower=gap.lower,
                    upper=gap.upper,
                )
            )
    return SubgroupVariablePublic(
        name=declaration.name, label=declaration.label, levels=levels, gaps=gaps
    )
