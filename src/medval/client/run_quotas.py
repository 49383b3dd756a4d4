"""What a site's run takes of its pending work under the committees' rules (issue 19,
``core.quotas``): the models in each phase's priority order, and no more executions than
the site may still upload today in each phase (its daily quota).

``runs.plan`` orders what is pending; ``within_daily_quota`` keeps of what would run only
what the quotas leave, and says what it left for another day, before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medval.core.quotas import run_order

if TYPE_CHECKING:
    from medval.client.runs import PlannedExecution  # which imports this module


def in_priority_order(planned: Sequence[PlannedExecution]) -> list[PlannedExecution]:
    """Within each benchmark, the committee's models first in its order, then the others
    in the order they come (benchmark, dataset, model)."""
    return run_order(
        planned,
        benchmark_of=lambda item: item.pending.benchmark_id,
        priority_of=lambda item: item.pending.priority,
    )


@dataclass(frozen=True)
class WithinQuota:
    """What runs now, and one line for each benchmark whose quota leaves some for later."""

    todo: list[PlannedExecution]
    deferred: list[PlannedExecution]
    notes: list[str]


def within_daily_quota(todo: Sequence[PlannedExecution]) -> WithinQuota:
    """Of ``todo`` (in the order it would run), per benchmark at most the uploads its open
    phase still allows this site today: an execution beyond it would give a result the
    server refuses until tomorrow."""
    kept: list[PlannedExecution] = []
    deferred: list[PlannedExecution] = []
    taken: dict[int, int] = {}
    for item in todo:
        left = item.pending.quota_left
        benchmark_id = item.pending.benchmark_id
        if left is not None and taken.get(benchmark_id, 0) >= left:
            deferred.append(item)
            continue
        taken[benchmark_id] = taken.get(benchmark_id, 0) + 1
        kept.append(item)
    notes = []
    for benchmark_id in dict.fromkeys(item.pending.benchmark_id for item in deferred):
        later = [item for item in deferred if item.pending.benchmark_id == benchmark_id]
        first = later[0].pending
        notes.append(
            f"benchmark {first.benchmark}: your site may upload {first.quota_left} more "
            f"result(s) today in its phase (its daily quota); {len(later)} execution(s) wait "
            f"for another day: {', '.join(item.key for item in later)}"
        )
    return WithinQuota(kept, deferred, notes)
