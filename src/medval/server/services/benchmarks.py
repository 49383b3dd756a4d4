"""Benchmarks: registration with its cubes, stage changes and the admin's approval."""

from __future__ import annotations

from medval.core.errors import InvalidTransition
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.schemas import BenchmarkCreate
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ReleasePolicy,
    Stage,
    check_approval_move,
    check_stage_move,
)
from medval.server.services.blob_use import require_usable_blob
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_admin,
    require_owner_or_admin,
)
from medval.server.services.validity import require_valid_cube
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, CubeRecord, UserRecord


def can_see_benchmark(caller: UserRecord | None, benchmark: BenchmarkRecord) -> bool:
    """Owners and admins see everything; others see approved benchmarks in operation,
    and anonymous callers only the public ones among those."""
    if is_owner_or_admin(caller, benchmark.owner_id):
        return True
    listed = benchmark.stage is Stage.OPERATION and benchmark.approval is ApprovalStatus.APPROVED
    if caller is None:
        return listed and benchmark.release_policy is ReleasePolicy.PUBLIC
    return listed


def visible_benchmark(
    tx: StoreTransaction, caller: UserRecord | None, benchmark_id: int
) -> BenchmarkRecord:
    benchmark = tx.benchmark(benchmark_id)
    if benchmark is None or not can_see_benchmark(caller, benchmark):
        raise not_found("benchmark", benchmark_id)
    return benchmark


def _benchmark_cubes(
    tx: StoreTransaction,
    caller: UserRecord,
    preparator_id: int,
    reference_model_id: int,
    evaluator_id: int,
) -> list[CubeRecord]:
    return [
        cube_of_kind(tx, caller, preparator_id, CubeKind.DATA_PREPARATOR, "data_preparator_id"),
        cube_of_kind(tx, caller, reference_model_id, CubeKind.MODEL, "reference_model_id"),
        cube_of_kind(tx, caller, evaluator_id, CubeKind.EVALUATOR, "evaluator_id"),
    ]


def _require_cubes_in_operation(cubes: list[CubeRecord], benchmark: str) -> None:
    drafts = [c.name for c in cubes if c.stage is not Stage.OPERATION]
    if drafts:
        raise InvalidTransition(
            f"benchmark {benchmark} cannot be in operation while its cubes "
            f"{', '.join(drafts)} are in development"
        )


def register_benchmark(
    ctx: ServiceContext, caller: UserRecord, body: BenchmarkCreate
) -> BenchmarkRecord:
    """Register a benchmark (pending the admin's approval) and approve its reference model."""
    now = ctx.clock()
    with ctx.transaction(caller) as tx:
        require_usable_blob(ctx, tx, caller, body.demo_data_hash, "demo data")
        cubes = _benchmark_cubes(
            tx, caller, body.data_preparator_id, body.reference_model_id, body.evaluator_id
        )
        for cube in cubes:
            require_valid_cube(cube)
        if body.stage is Stage.OPERATION:
            _require_cubes_in_operation(cubes, body.name)
        benchmark = tx.add_benchmark(caller.id, body, now)
        # The reference model is part of the benchmark's definition: it needs no request.
        association = tx.add_association(
            benchmark.id, AssociationKind.MODEL, body.reference_model_id, caller.id, now
        )
        tx.decide_association(association.id, ApprovalStatus.APPROVED, caller.id, now)
        return benchmark


def get_benchmark(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int
) -> BenchmarkRecord:
    """The benchmark, if ``caller`` (None: a visitor) may see it; else not found."""
    with ctx.store.transaction() as tx:
        return visible_benchmark(tx, caller, benchmark_id)


def list_benchmarks(
    ctx: ServiceContext, caller: UserRecord | None, page: PageRequest = EVERYTHING
) -> Page[BenchmarkRecord]:
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_benchmarks(after=after, limit=n),
            by_id,
            lambda b: can_see_benchmark(caller, b),
        )


def change_benchmark_stage(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, stage: Stage
) -> BenchmarkRecord:
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        check_stage_move(f"benchmark {benchmark.name}", benchmark.stage, stage)
        cubes = [
            c
            for cube_id in (
                benchmark.data_preparator_id,
                benchmark.reference_model_id,
                benchmark.evaluator_id,
            )
            if (c := tx.cube(cube_id)) is not None
        ]
        _require_cubes_in_operation(cubes, benchmark.name)
        return tx.set_benchmark_stage(benchmark_id, stage)


def decide_benchmark(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, status: ApprovalStatus
) -> BenchmarkRecord:
    """The admin's decision. Only a benchmark in operation can be approved: a draft may
    still change, and an approval must cover what participants will actually run."""
    require_admin(caller)
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        check_approval_move(f"benchmark {benchmark.name}", benchmark.approval, status)
        if status is ApprovalStatus.APPROVED and benchmark.stage is not Stage.OPERATION:
            raise InvalidTransition(
                f"benchmark {benchmark.name} is in development; move it to operation first"
            )
        return tx.set_benchmark_approval(benchmark_id, status)
