"""Pending work reads a fixed number of SQL statements, however many rows it covers.

Counted on the engine (SQLAlchemy's ``before_cursor_execute``) for one whole request,
its authentication included: a small world, then a world with several times more
benchmarks, datasets, models and results for the same data owner. (The time it takes at
1,000 benchmarks' worth is ``bench/pending_work.py``'s to measure.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from .conftest import Api, User, make_world

FAILED = {"status": "failed", "document": None, "failure": "task 'infer' failed"}


@contextmanager
def statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    engine = client.app.state.context.store.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def pending(client: TestClient, hospital: User) -> tuple[int, list[str]]:
    """How many executions are pending for ``hospital``, and the statements it took."""
    with statements(client) as seen:
        work = hospital.ok("get", "/executions/pending")
    return len(work), seen


def grow(api: Api, world: dict[str, Any], benchmarks: int, models: int) -> int:
    """``benchmarks`` more approved benchmarks, each with ``models`` approved models and a
    dataset of the hospital's; on each, one model has succeeded and one has failed.
    Returns how many executions this adds to the hospital's pending work."""
    bench, hospital, vendor = world["bench"], world["hospital"], world["vendor"]
    added = 0
    for _ in range(benchmarks):
        benchmark = api.benchmark(bench, approve_by=world["root"], min_sites=1)
        dataset = api.dataset(hospital, benchmark)
        api.associate(hospital, benchmark, "dataset", dataset, bench)
        cubes = [api.cube(vendor, "model") for _ in range(models)]
        for cube in cubes:
            api.associate(vendor, benchmark, "model", cube, bench)
        succeeded, failed = cubes[0], cubes[1]
        hospital.ok("post", "/results", api.result_body(benchmark, dataset, succeeded))
        hospital.ok("post", "/results", api.result_body(benchmark, dataset, failed) | FAILED)
        added += models  # the reference model and the failed one are pending, not the done one
    return added


def test_pending_work_takes_as_many_statements_for_many_rows_as_for_few(
    api: Api, client: TestClient
) -> None:
    world = make_world(api)
    hospital = world["hospital"]
    hospital.ok("post", "/results", api.result_body(world["benchmark"], world["dataset"],
                                                    world["model"]))  # fmt: skip
    few, small = pending(client, hospital)
    assert few == 1  # the reference model; the other model has its result

    more = grow(api, world, benchmarks=6, models=4)
    many, large = pending(client, hospital)
    assert many == few + more == 1 + 6 * 4
    assert len(large) == len(small), "\n\n".join(large)
