"""Associations: a dataset or a model asks to join a benchmark; its owner decides.

One association per (benchmark, dataset or model), whose status moves on: pending, then
approved or rejected; either side (or an admin) may revoke it; a rejected or revoked one
is reopened (pending again) by a new request. Every move is kept in its ``history``
(who, what, when), and results uploaded under it stay in the record.

A benchmark's membership rules apply at request time (``membership``): a dataset's
owner must have accepted the benchmark's agreement, and the benchmark's auto-approval
rule may approve the request at once, on the benchmark owner's behalf; so is a dataset's
request by a site the benchmark's committee expects (``expected_sites``).
"""

from __future__ import annotations

from medval.core.errors import InvalidInput, InvalidTransition
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.schemas import AssociationCreate
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    Stage,
    check_association_move,
)
from medval.server.services.approval import check_decision, require_decision, require_reopenable
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.datasets import visible_dataset
from medval.server.services.expected_sites import EXPECTED_SITE, is_expected
from medval.server.services.membership import approves_at_request, require_agreement_accepted
from medval.server.services.model_keys import (
    forget_unapproved_sites,
    models_touched_by_association,
)
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_owner,
    require_owner_or_admin,
)
from medval.server.services.quotas import require_model_quota
from medval.server.services.small_cells import require_no_small_cells_in_statistics
from medval.server.services.validity import (
    require_benchmark_runs,
    require_valid_cube,
    require_valid_dataset,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import AssociationRecord, BenchmarkRecord, UserRecord

# A request is made in the entity owner's name (the data owner or the model owner
# consents to join): an admin who does not own the entity may not make it for them.
_ASK = "request its association with a benchmark"


def _check_entity(
    tx: StoreTransaction, caller: UserRecord, benchmark: BenchmarkRecord, body: AssociationCreate
) -> str:
    """The entity exists, belongs to the caller (an admin too: see ``_ASK``), is valid,
    frozen and fits the benchmark; returns its name."""
    if body.kind is AssociationKind.DATASET:
        dataset = visible_dataset(tx, caller, body.entity_id)
        require_owner(caller, dataset.owner_id, f"dataset {dataset.name}", _ASK)
        require_valid_dataset(dataset)
        name, stage = dataset.name, dataset.stage
        if dataset.data_preparator_id != benchmark.data_preparator_id:
            raise InvalidInput(
                f"dataset {dataset.name} was prepared with cube {dataset.data_preparator_id}, "
                f"but benchmark {benchmark.name} prepares data with cube "
                f"{benchmark.data_preparator_id}"
            )
        # Its statistics reach the benchmark's owner from here on: no small cell may.
        require_no_small_cells_in_statistics(benchmark, dataset)
    else:
        model = cube_of_kind(tx, caller, body.entity_id, CubeKind.MODEL, "entity_id")
        require_owner(caller, model.owner_id, f"model {model.name}", _ASK)
        require_valid_cube(model)
        name, stage = model.name, model.stage
    if stage is not Stage.OPERATION:
        raise InvalidTransition(
            f"{body.kind.value} {name} is in development; move it to operation first"
        )
    return name


def _require_takes_associations(tx: StoreTransaction, benchmark: BenchmarkRecord) -> None:
    if benchmark.approval is not ApprovalStatus.APPROVED:
        raise InvalidTransition(
            f"benchmark {benchmark.name} is {benchmark.approval.value}; "
            "only an approved benchmark takes associations"
        )
    require_benchmark_runs(tx, benchmark)


def request_association(
    ctx: ServiceContext, caller: UserRecord, body: AssociationCreate
) -> AssociationRecord:
    """A new request, or a request again after a rejection or a revocation (the same
    association reopens as pending; its history keeps what came before)."""
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, body.benchmark_id)
        _require_takes_associations(tx, benchmark)
        name = _check_entity(tx, caller, benchmark, body)
        now = ctx.clock()
        if body.kind is AssociationKind.DATASET:
            dataset = visible_dataset(tx, caller, body.entity_id)
            require_agreement_accepted(tx, benchmark, dataset.owner_id)
        else:
            # The open phase's quota of models per owner, counting those waiting too.
            require_model_quota(tx, benchmark, body.entity_id, caller.id, now, waiting_too=True)
        existing = tx.list_associations(
            benchmark_id=benchmark.id, kind=body.kind, entity_id=body.entity_id
        )
        if not existing:
            requested = tx.add_association(benchmark.id, body.kind, body.entity_id, caller.id, now)
        else:
            association = existing[0]
            require_reopenable(
                association.status,
                f"{body.kind.value} {name}",
                f"benchmark {benchmark.name}",
                association.id,
            )
            requested = tx.reopen_association(association.id, caller.id, now)
        # Approved by the system on the benchmark owner's behalf, marked so in its history:
        # a dataset of an expected site (audited as such), or by the auto-approval rule.
        if _from_expected_site(tx, benchmark, body, caller):
            return tx.decide_association(
                requested.id,
                ApprovalStatus.APPROVED,
                benchmark.owner_id,
                now,
                automatic=True,
                because=EXPECTED_SITE,
            )
        if not approves_at_request(benchmark, caller):
            return requested
        return tx.decide_association(
            requested.id, ApprovalStatus.APPROVED, benchmark.owner_id, now, automatic=True
        )


def _from_expected_site(
    tx: StoreTransaction, benchmark: BenchmarkRecord, body: AssociationCreate, caller: UserRecord
) -> bool:
    """A dataset's request by its owner (``_ASK``), an expected site; never the benchmark
    owner's own (four eyes)."""
    return (
        body.kind is AssociationKind.DATASET
        and caller.id != benchmark.owner_id
        and is_expected(tx, benchmark.id, caller)
    )


def decide_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int, status: ApprovalStatus
) -> AssociationRecord:
    """The benchmark owner's (or an admin's) decision; never the initiator's approval."""
    require_decision(status)
    with ctx.transaction(caller) as tx:
        association = visible_association(tx, caller, association_id)
        benchmark = visible_benchmark(tx, caller, association.benchmark_id)
        what = f"the association of {association.kind.value} {association.entity_name}"
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        check_decision(what, association.status, status, association.initiated_by_id, caller)
        now = ctx.clock()
        if status is ApprovalStatus.APPROVED:
            _require_entity_valid(tx, association)
            require_benchmark_runs(tx, benchmark)
            if association.kind is AssociationKind.MODEL:
                require_model_quota(
                    tx,
                    benchmark,
                    association.entity_id,
                    association.entity_owner_id,
                    now,
                    waiting_too=False,
                )
        return tx.decide_association(association_id, status, caller.id, now)


def revoke_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int
) -> AssociationRecord:
    """Either side withdraws: the benchmark owner, the dataset's or model's owner, or an
    admin. Nothing new runs under it; what was uploaded under it stays. A private model's
    key wrapped for a site that is no longer approved for it is deleted with it."""
    with ctx.transaction(caller) as tx:
        # Visible only to the parties (and admins): whoever sees it may revoke it.
        association = visible_association(tx, caller, association_id)
        benchmark = tx.benchmark(association.benchmark_id)
        if benchmark is None:
            raise not_found("association", association_id)
        what = f"the association of {association.kind.value} {association.entity_name}"
        if (
            association.kind is AssociationKind.MODEL
            and association.entity_id == benchmark.reference_model_id
        ):
            raise InvalidTransition(
                f"model {association.entity_name} is the reference model of benchmark "
                f"{benchmark.name}, part of its definition; invalidate the benchmark instead"
            )
        check_association_move(what, association.status, ApprovalStatus.REVOKED)
        revoked = tx.decide_association(
            association_id, ApprovalStatus.REVOKED, caller.id, ctx.clock()
        )
        forget_unapproved_sites(tx, models_touched_by_association(tx, revoked))
        return revoked


def get_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int
) -> AssociationRecord:
    with ctx.store.transaction() as tx:
        return visible_association(tx, caller, association_id)


def _require_entity_valid(tx: StoreTransaction, association: AssociationRecord) -> None:
    if association.kind is AssociationKind.DATASET:
        dataset = tx.dataset(association.entity_id)
        if dataset is not None:
            require_valid_dataset(dataset)
    else:
        cube = tx.cube(association.entity_id)
        if cube is not None:
            require_valid_cube(cube)


def _can_see(tx: StoreTransaction, caller: UserRecord, association: AssociationRecord) -> bool:
    if is_owner_or_admin(caller, association.entity_owner_id):
        return True
    benchmark = tx.benchmark(association.benchmark_id)
    return benchmark is not None and benchmark.owner_id == caller.id


def visible_association(
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
    page: PageRequest = EVERYTHING,
) -> Page[AssociationRecord]:
    """Associations the caller is party to: as benchmark owner, entity owner or admin."""
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_associations(benchmark_id, kind, status, after=after, limit=n),
            by_id,
            lambda a: _can_see(tx, caller, a),
        )
