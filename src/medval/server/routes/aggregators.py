"""Routes of aggregators: the machines that run Flower's SuperLink for experiments."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import Id, Name
from medval.core.training_schemas import AggregatorCreate, AggregatorPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import aggregators

router = APIRouter(tags=["training"], route_class=DocumentedRoute)


@router.post(api.AGGREGATORS, status_code=201, responses=errors(409))
def register_aggregator(
    ctx: ContextDep, user: CurrentUser, body: AggregatorCreate
) -> AggregatorPublic:
    return aggregators.register_aggregator(ctx, user, body)


@router.get(api.AGGREGATORS)
def list_aggregators(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, name: Name | None = None
) -> Sequence[AggregatorPublic]:
    return pager.send(aggregators.list_aggregators(ctx, name, pager.page))


@router.get(api.AGGREGATOR, responses=errors(404))
def get_aggregator(ctx: ContextDep, user: CurrentUser, aggregator_id: Id) -> AggregatorPublic:
    return aggregators.get_aggregator(ctx, aggregator_id)
