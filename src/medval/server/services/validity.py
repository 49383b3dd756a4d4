"""What may still run: an invalidated cube, dataset or benchmark runs nothing new.

The rules every use case that starts something new reads (an association, its approval,
a result upload, the pending executions, a registration that names a cube). Only the
store's records and the core's ``check_valid``; the invalidating itself is
``services.invalidation``.
"""

from __future__ import annotations

from medval.core.errors import InvalidTransition
from medval.core.states import check_valid
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, CubeRecord, DatasetRecord


def cube_label(cube: CubeRecord) -> str:
    return f"{cube.kind.value} cube {cube.name} ({cube.id})"


def require_valid_cube(cube: CubeRecord) -> None:
    check_valid(cube_label(cube), cube)


def require_valid_dataset(dataset: DatasetRecord) -> None:
    check_valid(f"dataset {dataset.name} ({dataset.id})", dataset)


def benchmark_blocker(tx: StoreTransaction, benchmark: BenchmarkRecord) -> str | None:
    """Why nothing new can run under ``benchmark`` (it, or its preparation or evaluator
    cube, is invalidated), or None. Its reference model is a model like the others: an
    invalidated one stops only its own executions."""
    try:
        check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
        for cube_id in (benchmark.data_preparator_id, benchmark.evaluator_id):
            cube = tx.cube(cube_id)
            if cube is not None:
                check_valid(f"{cube_label(cube)} of benchmark {benchmark.name}", cube)
    except InvalidTransition as exc:
        return exc.message
    return None


def require_benchmark_runs(tx: StoreTransaction, benchmark: BenchmarkRecord) -> None:
    blocker = benchmark_blocker(tx, benchmark)
    if blocker is not None:
        raise InvalidTransition(blocker)
