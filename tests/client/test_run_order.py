"""The order ``medval run`` runs a site's pending work in (issue 19): each benchmark's
models in its committee's priority order first, the others after in today's order; and
no more executions than the site's daily quota leaves (``client.run_quotas``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from medval.client.run_quotas import within_daily_quota
from medval.client.runs import PlannedExecution, plan
from medval.core.result_schemas import PendingExecution


def _pending(
    benchmark: int, dataset: int, model: int, priority: int | None, left: int | None = None
) -> PendingExecution:
    return PendingExecution(
        benchmark_id=benchmark,
        benchmark=f"bench-{benchmark}",
        dataset_id=dataset,
        dataset=f"site-{dataset}",
        model_id=model,
        model=f"model-{model}",
        model_owner="vendor",
        model_hash="a" * 64,
        priority=priority,
        quota_left=left,
    )


def _executor(pending: list[PendingExecution]) -> Any:
    """What ``plan`` reads of an executor: the server's pending work, the workspace."""
    client = SimpleNamespace(pending_executions=lambda: pending)
    workspace = SimpleNamespace(dataset_by_server_id=lambda _id: None, result=lambda _key: None)
    return SimpleNamespace(client=client, workspace=workspace)


def _order(planned: list[PlannedExecution]) -> list[tuple[int, int, int]]:
    return [(p.pending.benchmark_id, p.pending.dataset_id, p.pending.model_id) for p in planned]


def test_the_run_follows_the_committees_priorities_then_todays_order() -> None:
    # As the server sends them: by benchmark, dataset, model id.
    pending = [
        _pending(1, 10, 100, None),
        _pending(1, 10, 101, 2),
        _pending(1, 10, 102, 1),
        _pending(1, 11, 100, None),
        _pending(1, 11, 101, 2),
        _pending(1, 11, 102, 1),
        _pending(2, 20, 103, None),
        _pending(2, 20, 104, None),
    ]
    assert _order(plan(_executor(pending))) == [
        (1, 10, 102),
        (1, 11, 102),
        (1, 10, 101),
        (1, 11, 101),
        (1, 10, 100),
        (1, 11, 100),
        (2, 20, 103),
        (2, 20, 104),
    ]
    # Only some models asked for: still in priority order.
    assert _order(plan(_executor(pending), model_ids={100, 101})) == [
        (1, 10, 101),
        (1, 11, 101),
        (1, 10, 100),
        (1, 11, 100),
    ]


def test_without_priorities_the_run_keeps_todays_order() -> None:
    pending = [_pending(1, 10, m, None) for m in (100, 101, 102)]
    assert _order(plan(_executor(pending))) == [(1, 10, 100), (1, 10, 101), (1, 10, 102)]


def test_no_more_runs_than_the_daily_quota_leaves_and_it_says_so() -> None:
    planned = plan(
        _executor(
            [
                _pending(1, 10, 100, None, left=1),
                _pending(1, 10, 101, 1, left=1),
                _pending(1, 10, 102, None, left=1),
                _pending(2, 20, 103, None, left=None),
                _pending(2, 20, 104, None, left=None),
            ]
        )
    )
    kept = within_daily_quota(planned)
    assert _order(kept.todo) == [(1, 10, 101), (2, 20, 103), (2, 20, 104)]
    assert _order(kept.deferred) == [(1, 10, 100), (1, 10, 102)]
    assert kept.notes == [
        "benchmark bench-1: your site may upload 1 more result(s) today in its phase (its "
        "daily quota); 2 execution(s) wait for another day: b1-m100-d10, b1-m102-d10"
    ]
    none_left = within_daily_quota(plan(_executor([_pending(1, 10, 100, None, left=0)])))
    assert (none_left.todo, len(none_left.deferred)) == ([], 1)
