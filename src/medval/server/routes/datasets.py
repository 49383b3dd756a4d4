from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import DatasetCreate, DatasetPublic, Id, StageChange
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import datasets, invalidation

router = APIRouter(tags=["datasets"], route_class=DocumentedRoute)


@router.post(api.DATASETS, status_code=201, responses=errors(404, 409))
def register_dataset(ctx: ContextDep, user: CurrentUser, body: DatasetCreate) -> DatasetPublic:
    return datasets.register_dataset(ctx, user, body)


@router.get(api.DATASETS)
def list_datasets(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, mine: bool = False
) -> Sequence[DatasetPublic]:
    return pager.send(datasets.list_datasets(ctx, user, mine, pager.page))


@router.get(api.DATASET, responses=errors(404))
def get_dataset(ctx: ContextDep, user: CurrentUser, dataset_id: Id) -> DatasetPublic:
    return datasets.get_dataset(ctx, user, dataset_id)


@router.put(api.DATASET_STAGE, responses=errors(403, 404, 409))
def change_stage(
    ctx: ContextDep, user: CurrentUser, dataset_id: Id, body: StageChange
) -> DatasetPublic:
    return datasets.change_dataset_stage(ctx, user, dataset_id, body.stage)


@router.post(api.DATASET_INVALIDATION, responses=errors(403, 404, 409))
def invalidate(ctx: ContextDep, user: CurrentUser, dataset_id: Id) -> DatasetPublic:
    """For good: it stays in the record, but nothing new runs against it."""
    return invalidation.invalidate_dataset(ctx, user, dataset_id)
