from __future__ import annotations

from fastapi import APIRouter

from medval.core import api
from medval.core.result_schemas import PendingExecution
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute
from medval.server.services.executions import pending_executions

router = APIRouter(tags=["executions"], route_class=DocumentedRoute)


@router.get(api.PENDING_EXECUTIONS)
def list_pending(ctx: ContextDep, user: CurrentUser, pager: PagerDep) -> list[PendingExecution]:
    return pager.send(pending_executions(ctx, user, pager.page))
