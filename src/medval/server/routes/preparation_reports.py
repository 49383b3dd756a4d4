"""Preparation reports: a site sends one, the benchmark's owner lists them (thin:
``services.preparation_reports``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.preparation_report import PreparationReportCreate, PreparationReportPublic
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import preparation_reports

router = APIRouter(tags=["preparation reports"], route_class=DocumentedRoute)


@router.post(api.PREPARATION_REPORTS, status_code=201, responses=errors(404))
def send_preparation_report(
    ctx: ContextDep, user: CurrentUser, body: PreparationReportCreate
) -> PreparationReportPublic:
    """Counts per step and state, no case named; a small cell shown is refused (422)."""
    return preparation_reports.send_preparation_report(ctx, user, body)


@router.get(api.BENCHMARK_PREPARATION_REPORTS, responses=errors(403, 404))
def benchmark_preparation_reports(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, pager: PagerDep
) -> Sequence[PreparationReportPublic]:
    """The benchmark's owner (and admins): every site's report, oldest first."""
    return pager.send(
        preparation_reports.benchmark_preparation_reports(ctx, user, benchmark_id, pager.page)
    )
