"""Associations: a dataset or a model asks to join a benchmark; its owner decides."""

from __future__ import annotations

from medval.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from medval.core.schemas import AssociationCreate
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    Stage,
    check_approval_move,
)
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.datasets import visible_dataset
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_owner_or_admin,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import AssociationRecord, BenchmarkRecord, UserRecord


def _check_entity(
    tx: StoreTransaction, caller: UserRecord, benchmark: BenchmarkRecord, body: AssociationCreate
) -> None:
    """The entity exists, belongs to the caller, is frozen and fits the benchmark."""
    if body.kind is AssociationKind.DATASET:
        dataset = visible_dataset(tx, caller, body.entity_id)
        require_owner_or_admin(caller, dataset.owner_id, f"dataset {dataset.name}")
        name, stage = dataset.name, dataset.stage
        if dataset.data_preparator_id != benchmark.data_preparator_id:
            raise InvalidInput(
                f"dataset {dataset.name} was prepared with cube {dataset.data_preparator_id}, "
                f"but benchmark {benchmark.name} prepares data with cube "
                f"{benchmark.data_preparator_id}"
            )
    else:
        model = cube_of_kind(tx, caller, body.entity_id, CubeKind.MODEL, "entity_id")
        require_owner_or_admin(caller, model.owner_id, f"model {model.name}")
        name, stage = model.name, model.stage
    if stage is not Stage.OPERATION:
        raise InvalidTransition(
            f"{body.kind.value} {name} is in development; move it to operation first"
        )


def request_association(
    ctx: ServiceContext, caller: UserRecord, body: AssociationCreate
) -> AssociationRecord:
    with ctx.store.transaction() as tx:
        benchmark = visible_benchmark(tx, caller, body.benchmark_id)
        if benchmark.approval is not ApprovalStatus.APPROVED:
            raise InvalidTransition(
                f"benchmark {benchmark.name} is {benchmark.approval.value}; "
                "only an approved benchmark takes associations"
            )
        _check_entity(tx, caller, benchmark, body)
        return tx.add_association(benchmark.id, body.kind, body.entity_id, caller.id, ctx.clock())


def decide_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int, status: ApprovalStatus
) -> AssociationRecord:
    """The benchmark owner's (or an admin's) decision; never the initiator's approval."""
    with ctx.store.transaction() as tx:
        association = _visible_association(tx, caller, association_id)
        benchmark = visible_benchmark(tx, caller, association.benchmark_id)
        what = f"the association of {association.kind.value} {association.entity_name}"
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        check_approval_move(what, association.status, status)
        # Four eyes: whoever asked cannot also grant, not even an admin.
        if status is ApprovalStatus.APPROVED and association.initiated_by_id == caller.id:
            raise PermissionDenied(f"you requested {what}; someone else must approve it")
        return tx.decide_association(association_id, status, caller.id, ctx.clock())


def _can_see(tx: StoreTransaction, caller: UserRecord, association: AssociationRecord) -> bool:
    if is_owner_or_admin(caller, association.entity_owner_id):
        return True
    benchmark = tx.benchmark(association.benchmark_id)
    return benchmark is not None and benchmark.owner_id == caller.id


def _visible_association(
    tx: StoreTransaction, caller: UserRecord, association_id: int
) -> AssociationRecord:
    association = tx.association(association_id)
    if association is None or not _can_see(tx, caller, association):
        raise not_found("association", association_id)
    return association


def list_associations(
    ctx: ServiceContext,
    caller: UserRecord,
    benchmark_id: int | None,
    kind: AssociationKind | None,
    status: ApprovalStatus | None,
) -> list[AssociationRecord]:
    """Associations the caller is party to: as benchmark owner, entity owner or admin."""
    with ctx.store.transaction() as tx:
        found = tx.list_associations(benchmark_id=benchmark_id, kind=kind, status=status)
        return [a for a in found if _can_see(tx, caller, a)]
