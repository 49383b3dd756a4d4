"""The shift between a benchmark's sites: each approved dataset's preparation statistics
against the other approved datasets' pooled (:mod:`medval.stats.shift`), released as the
leaderboard is.

Who sees what, with the rules that already hold (no new ones):

- the benchmark: whoever may see its leaderboard (its release policy; the leaderboard's
  own refusal otherwise, :func:`leaderboard_benchmark`);
- a site: whoever may see that dataset's statistics (its owner, admins, the benchmark's
  owner: :func:`can_see_dataset`) or one of its per-site results on the leaderboard
  (:func:`can_see_result`, e.g. a model's owner once its results are released); the
  other sites are left out, as on the leaderboard;
- a site's comparison with the others pooled shows something of theirs: for a caller who
  may not see every other site's statistics, it is shown only when the others are at
  least the benchmark's ``min_sites`` (:func:`is_released`), as a pooled figure is.

Every count shown obeys the benchmark's ``min_cell_count``: each dataset's statistics go
through medval's own small-cell suppression (:func:`suppress_statistics`, the rules the
data owner's client applies) before they are compared, so a bin withheld there is left
out of the comparison (for every site) and never shown. The server already refuses such
statistics when a dataset asks to join; this holds for any registered before that check.
The datasets compared are those approved on the benchmark and not invalidated.
"""

from __future__ import annotations

from medval.core.shift_schemas import BenchmarkShiftPublic, SiteShiftPublic
from medval.core.small_cells import suppress_statistics
from medval.core.states import ApprovalStatus, AssociationKind
from medval.server.services.context import ServiceContext
from medval.server.services.datasets import can_see_dataset
from medval.server.services.leaderboard import leaderboard_benchmark
from medval.server.services.release import can_see_result, is_released, site_count
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    BenchmarkRecord,
    DatasetRecord,
    ResultRecord,
    UserRecord,
)
from medval.stats.shift import THRESHOLDS, SiteShift, compare_sites


def benchmark_shift(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int
) -> BenchmarkShiftPublic:
    with ctx.store.transaction() as tx:
        benchmark = leaderboard_benchmark(tx, caller, benchmark_id, "shift between sites")
        approved = tx.list_associations(
            benchmark_id=benchmark.id,
            kind=AssociationKind.DATASET,
            status=ApprovalStatus.APPROVED,
        )
        found = {a.entity_id: tx.dataset(a.entity_id) for a in approved}
        datasets = {
            i: d for i, d in sorted(found.items()) if d is not None and d.invalidated_at is None
        }
        results = tx.list_results(benchmark_id=benchmark.id)
        statistics_seen = {
            i for i, d in datasets.items() if caller is not None and can_see_dataset(tx, caller, d)
        }
        shown = {
            i
            for i, d in datasets.items()
            if i in statistics_seen or _sees_a_result(tx, caller, benchmark, d, results)
        }
    k = benchmark.min_cell_count
    released = {i: suppress_statistics(d.statistics, k)[0] for i, d in datasets.items()}
    shifts = compare_sites(released)
    return BenchmarkShiftPublic(
        benchmark_id=benchmark.id,
        benchmark=benchmark.name,
        release_policy=benchmark.release_policy,
        min_cell_count=k,
        n_sites=len(datasets),
        thresholds=list(THRESHOLDS.values()),
        sites=[
            _site(
                shift,
                datasets[shift.site],
                released[shift.site].n_cases,
                benchmark,
                sees_others=statistics_seen >= set(datasets) - {shift.site},
            )
            for shift in shifts
            if shift.site in shown
        ],
    )


def _sees_a_result(
    tx: StoreTransaction,
    caller: UserRecord | None,
    benchmark: BenchmarkRecord,
    dataset: DatasetRecord,
    results: list[ResultRecord],
) -> bool:
    return any(
        can_see_result(caller, r, benchmark, site_count(tx, benchmark.id, r.model_id, r.phase_id))
        for r in results
        if r.dataset_id == dataset.id
    )


def _site(
    shift: SiteShift[int],
    dataset: DatasetRecord,
    n_cases: int | None,
    benchmark: BenchmarkRecord,
    sees_others: bool,
) -> SiteShiftPublic:
    site = SiteShiftPublic(
        dataset_id=dataset.id,
        dataset=dataset.name,
        n_cases=n_cases,
        n_reference_sites=shift.n_reference_sites,
        flagged=False,
    )
    if shift.n_reference_sites == 0:
        return site.model_copy(update={"withheld": "the only site: nothing to compare it with"})
    if not sees_others and not is_released(benchmark, shift.n_reference_sites):
        return site.model_copy(
            update={
                "withheld": (
                    f"compared with {shift.n_reference_sites} other site(s), fewer than the "
                    f"{benchmark.min_sites} this benchmark releases pooled figures from"
                )
            }
        )
    return site.model_copy(
        update={
            "flagged": shift.flagged,
            "comparisons": shift.comparisons,
            "not_compared": shift.not_compared,
        }
    )
