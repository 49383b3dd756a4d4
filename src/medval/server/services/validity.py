"""What may still run: an invalidated cube, dataset or benchmark runs nothing new.

The rules every use case that starts something new reads (an association, its approval,
a result upload, the pending executions, a registration that names a cube). Only the
store's records (or the fields of them that ``pending_work`` reads) and the core's
``check_valid``; the invalidating itself is ``services.invalidation``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from medval.core.errors import InvalidTransition
from medval.core.states import CubeKind, Invalidatable, check_valid
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, CubeRecord, DatasetRecord


class _Cube(Invalidatable, Protocol):
    """A cube's record, or the few fields of it that pending work reads."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> CubeKind: ...


class _Benchmark(Invalidatable, Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def data_preparator_id(self) -> int: ...
    @property
    def evaluator_id(self) -> int: ...


def cube_label(cube: _Cube) -> str:
    return f"{cube.kind.value} cube {cube.name} ({cube.id})"


def require_valid_cube(cube: CubeRecord) -> None:
    check_valid(cube_label(cube), cube)


def require_valid_dataset(dataset: DatasetRecord) -> None:
    check_valid(f"dataset {dataset.name} ({dataset.id})", dataset)


def benchmark_blocker(tx: StoreTransaction, benchmark: BenchmarkRecord) -> str | None:
    """Why nothing new can run under ``benchmark`` (it, or its preparation or evaluator
    cube, is invalidated), or None. Its reference model is a model like the others: an
    invalidated one stops only its own executions."""
    return blocker_among(benchmark, tx.cube)


def blocker_among(benchmark: _Benchmark, cube: Callable[[int], _Cube | None]) -> str | None:
    """``benchmark_blocker`` with the cubes found by ``cube`` (by id; None: unknown), for a
    use case that read them all at once (``pending_work``)."""
    try:
        check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
        for cube_id in (benchmark.data_preparator_id, benchmark.evaluator_id):
            found = cube(cube_id)
            if found is not None:
                check_valid(f"{cube_label(found)} of benchmark {benchmark.name}", found)
    except InvalidTransition as exc:
        return exc.message
    return None


def require_benchmark_runs(tx: StoreTransaction, benchmark: BenchmarkRecord) -> None:
    blocker = benchmark_blocker(tx, benchmark)
    if blocker is not None:
        raise InvalidTransition(blocker)
