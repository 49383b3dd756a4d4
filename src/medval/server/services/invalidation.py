"""Invalidation: an owner (or an admin) withdraws a cube, a dataset or a benchmark.

It stays in the record (listed, shown as invalidated, by whom and when; its results
kept and released as before) but nothing new runs against it (``services.validity``).
There is no way back: what was run against it may be judged by the fact, and a fixed
artifact is a new registration. The wrapped keys of private models held by sites that the
invalidation leaves unapproved are deleted with it (``services.model_keys``).
"""

from __future__ import annotations

from medval.core.errors import InvalidTransition
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.datasets import visible_dataset
from medval.server.services.model_keys import (
    forget_unapproved_sites,
    models_touched_by_benchmark,
    models_touched_by_dataset,
)
from medval.server.services.permissions import require_owner_or_admin
from medval.server.services.validity import cube_label
from medval.server.store.records import BenchmarkRecord, CubeRecord, DatasetRecord, UserRecord


def _not_yet(what: str, invalidated_by: str | None, already: bool) -> None:
    if already:
        raise InvalidTransition(f"{what} is already invalidated (by {invalidated_by})")


def invalidate_cube(ctx: ServiceContext, caller: UserRecord, cube_id: int) -> CubeRecord:
    with ctx.transaction(caller) as tx:
        cube = visible_cube(tx, caller, cube_id)
        require_owner_or_admin(caller, cube.owner_id, f"cube {cube.name}")
        _not_yet(cube_label(cube), cube.invalidated_by, cube.invalidated_at is not None)
        invalidated = tx.invalidate_cube(cube.id, caller.id, ctx.clock())
        forget_unapproved_sites(tx, {cube.id})
        return invalidated


def invalidate_dataset(ctx: ServiceContext, caller: UserRecord, dataset_id: int) -> DatasetRecord:
    with ctx.transaction(caller) as tx:
        dataset = visible_dataset(tx, caller, dataset_id)
        require_owner_or_admin(caller, dataset.owner_id, f"dataset {dataset.name}")
        what = f"dataset {dataset.name} ({dataset.id})"
        _not_yet(what, dataset.invalidated_by, dataset.invalidated_at is not None)
        invalidated = tx.invalidate_dataset(dataset.id, caller.id, ctx.clock())
        forget_unapproved_sites(tx, models_touched_by_dataset(tx, dataset.id))
        return invalidated


def invalidate_benchmark(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int
) -> BenchmarkRecord:
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        what = f"benchmark {benchmark.name} ({benchmark.id})"
        _not_yet(what, benchmark.invalidated_by, benchmark.invalidated_at is not None)
        invalidated = tx.invalidate_benchmark(benchmark.id, caller.id, ctx.clock())
        forget_unapproved_sites(tx, models_touched_by_benchmark(tx, benchmark.id))
        return invalidated
