"""Pending executions: the work waiting on the caller's datasets."""

from __future__ import annotations

from collections import defaultdict

from medval.core.paging import EVERYTHING, Cursor, PageRequest
from medval.core.phases import phase_open_at
from medval.core.result_schemas import PendingExecution
from medval.core.states import ExecutionStatus
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page
from medval.server.services.quotas import site_quotas
from medval.server.services.validity import blocker_among
from medval.server.store.pending_work import WorkResult
from medval.server.store.records import UserRecord


def pending_executions(
    ctx: ServiceContext, caller: UserRecord, page: PageRequest = EVERYTHING
) -> Page[PendingExecution]:
    """Approved models x the caller's approved datasets, on approved benchmarks in
    operation with a phase open now (core.phases), minus the pairs that already have a
    succeeded result in that phase (a failed one is still pending, marked ``failed``: it
    may be run and uploaded again). Each carries the dataset's policy and the model's runs
    there, for the client to judge. Nothing invalidated runs: not a benchmark (or its
    preparation or evaluator cube), a dataset or a model.

    Read in a fixed number of queries, however many rows (``StoreTransaction.pending_work``:
    the approved associations on approved benchmarks in operation); the rest is judged here.
    Paged in the order of (benchmark, dataset, model) ids, that triple the cursor: only the
    page's items (and one more, to know there are more) are made."""
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        work = tx.pending_work(caller.id)
        # Work waits only in each benchmark's open phase (core.phases): none open, none.
        open_phases = {
            benchmark_id: found
            for benchmark_id, phases in work.phases.items()
            if (found := phase_open_at(phases, now)) is not None
        }
        # Each open phase's priorities, and the site's daily quota left in it.
        quotas = site_quotas(tx, caller.id, [p.id for p in open_phases.values()], now)
    results: dict[tuple[int, int], list[WorkResult]] = defaultdict(list)
    for result in work.results:
        phase = open_phases.get(result.benchmark_id)
        if phase is not None and phase.id == result.phase_id:
            results[(result.benchmark_id, result.dataset_id)].append(result)
    pending: list[PendingExecution] = []
    after: Cursor = page.after or ()
    room = page.limit + 1 if page.limit is not None else None
    for dataset in sorted(work.datasets, key=lambda d: (d.benchmark_id, d.id)):
        if (dataset.benchmark_id, dataset.id) < after[:2]:
            continue
        benchmark = work.benchmarks[dataset.benchmark_id]
        if dataset.invalidated_at is not None or blocker_among(benchmark, work.cubes.get):
            continue
        phase = open_phases.get(benchmark.id)
        if phase is None:
            continue
        ran = results[(benchmark.id, dataset.id)]
        done = {r.model_id for r in ran if r.status is ExecutionStatus.SUCCEEDED}
        failed = {r.model_id for r in ran if r.status is ExecutionStatus.FAILED}
        runs = {r.model_id: r.runs for r in ran}
        quota = quotas[phase.id]
        for model in sorted(work.models.get(benchmark.id, []), key=lambda m: m.id):
            if (benchmark.id, dataset.id, model.id) <= after:
                continue
            if model.id in done or model.invalidated_at is not None:
                continue
            if room is not None and len(pending) == room:
                break
            pending.append(
                PendingExecution(
                    benchmark_id=benchmark.id,
                    benchmark=benchmark.name,
                    dataset_id=dataset.id,
                    dataset=dataset.name,
                    model_id=model.id,
                    model=model.name,
                    model_owner=model.owner,
                    model_hash=model.archive_hash,
                    failed=model.id in failed,
                    policy=dataset.policy,
                    runs=runs.get(model.id, 0),
                    phase=phase.name,
                    evaluator_id=phase.evaluator_id,
                    priority=quota.priorities.get(model.id),
                    quota_left=quota.left_today,
                )
            )
        if room is not None and len(pending) == room:
            break
    if page.limit is not None and len(pending) > page.limit:
        shown = pending[: page.limit]
        last = shown[-1]
        return Page(shown, (last.benchmark_id, last.dataset_id, last.model_id))
    return Page(pending)
