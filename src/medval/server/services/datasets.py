"""Datasets: registered by hash and statistics only; the data never leaves the site."""

from __future__ import annotations

from medval.core.errors import InvalidTransition
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.schemas import DatasetCreate
from medval.core.states import AssociationKind, CubeKind, Stage, check_stage_move
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_owner_or_admin,
)
from medval.server.services.validity import require_valid_cube
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import DatasetRecord, UserRecord


def can_see_dataset(tx: StoreTransaction, caller: UserRecord, dataset: DatasetRecord) -> bool:
    """Statistics are shared with the owner, admins and the owners of the benchmarks the
    dataset asked to join (who must judge it), not with every account."""
    if is_owner_or_admin(caller, dataset.owner_id):
        return True
    associations = tx.list_associations(kind=AssociationKind.DATASET, entity_id=dataset.id)
    for association in associations:
        benchmark = tx.benchmark(association.benchmark_id)
        if benchmark is not None and benchmark.owner_id == caller.id:
            return True
    return False


def visible_dataset(tx: StoreTransaction, caller: UserRecord, dataset_id: int) -> DatasetRecord:
    dataset = tx.dataset(dataset_id)
    if dataset is None or not can_see_dataset(tx, caller, dataset):
        raise not_found("dataset", dataset_id)
    return dataset


def register_dataset(ctx: ServiceContext, caller: UserRecord, body: DatasetCreate) -> DatasetRecord:
    with ctx.transaction(caller) as tx:
        preparator = cube_of_kind(
            tx, caller, body.data_preparator_id, CubeKind.DATA_PREPARATOR, "data_preparator_id"
        )
        require_valid_cube(preparator)
        if body.stage is Stage.OPERATION and preparator.stage is not Stage.OPERATION:
            raise InvalidTransition(
                f"dataset {body.name} cannot be in operation: its preparation cube "
                f"{preparator.name} is in development"
            )
        return tx.add_dataset(caller.id, body, ctx.clock())


def get_dataset(ctx: ServiceContext, caller: UserRecord, dataset_id: int) -> DatasetRecord:
    with ctx.store.transaction() as tx:
        return visible_dataset(tx, caller, dataset_id)


def list_datasets(
    ctx: ServiceContext, caller: UserRecord, mine: bool, page: PageRequest = EVERYTHING
) -> Page[DatasetRecord]:
    """``can_see_dataset``'s rule, for many rows at once: the caller's own datasets, and
    those that asked to join the caller's benchmarks (found once, not per row)."""
    owner_id = caller.id if mine else None
    with ctx.store.transaction() as tx:
        joined = set() if caller.is_admin else _joined_own_benchmarks(tx, caller)
        if not (caller.is_admin or joined):  # only their own: the store finds those
            owner_id = caller.id

        def visible(dataset: DatasetRecord) -> bool:
            return caller.is_admin or dataset.owner_id == caller.id or dataset.id in joined

        return visible_page(
            page, lambda after, n: tx.list_datasets(owner_id, after=after, limit=n), by_id, visible
        )


def _joined_own_benchmarks(tx: StoreTransaction, caller: UserRecord) -> set[int]:
    """The datasets that asked to join a benchmark of the caller's."""
    return {
        a.entity_id
        for b in tx.list_benchmarks()
        if b.owner_id == caller.id
        for a in tx.list_associations(benchmark_id=b.id, kind=AssociationKind.DATASET)
    }


def change_dataset_stage(
    ctx: ServiceContext, caller: UserRecord, dataset_id: int, stage: Stage
) -> DatasetRecord:
    with ctx.transaction(caller) as tx:
        dataset = visible_dataset(tx, caller, dataset_id)
        require_owner_or_admin(caller, dataset.owner_id, f"dataset {dataset.name}")
        check_stage_move(f"dataset {dataset.name}", dataset.stage, stage)
        preparator = tx.cube(dataset.data_preparator_id)
        if preparator is not None and preparator.stage is not Stage.OPERATION:
            raise InvalidTransition(
                f"dataset {dataset.name} cannot be in operation: its preparation cube "
                f"{preparator.name} is in development"
            )
        return tx.set_dataset_stage(dataset_id, stage)
