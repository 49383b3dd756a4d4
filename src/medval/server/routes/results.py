from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.result_schemas import ResultCreate, ResultPublic
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import results

router = APIRouter(tags=["results"], route_class=DocumentedRoute)


@router.post(api.RESULTS, status_code=201, responses=errors(403, 404, 409))
def upload_result(ctx: ContextDep, user: CurrentUser, body: ResultCreate) -> ResultPublic:
    return results.upload_result(ctx, user, body)


@router.get(api.RESULTS)
def list_results(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    benchmark_id: Id | None = None,
    model_id: Id | None = None,
    dataset_id: Id | None = None,
) -> Sequence[ResultPublic]:
    found = results.list_results(ctx, user, benchmark_id, dataset_id, model_id, pager.page)
    return pager.send(found)


@router.get(api.RESULT, responses=errors(404))
def get_result(ctx: ContextDep, user: CurrentUser, result_id: Id) -> ResultPublic:
    return results.get_result(ctx, user, result_id)
