"""Routes of a benchmark's committee (issue 19): its expected sites, the participation
view and the exported tables; and an admin putting an account in an institution."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.participation_schemas import (
    BenchmarkParticipation,
    BenchmarkResultsExport,
    ExpectedSiteCreate,
    ExpectedSitePublic,
    InstitutionChange,
    InstitutionName,
    SiteKind,
)
from medval.core.schemas import Id, UserPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import accounts, expected_sites, exports, participation

router = APIRouter(tags=["participation"], route_class=DocumentedRoute)


@router.put(api.USER_INSTITUTION, responses=errors(403, 404))
def set_institution(
    ctx: ContextDep, user: CurrentUser, user_id: Id, body: InstitutionChange
) -> UserPublic:
    return accounts.set_institution(ctx, user, user_id, body)


@router.post(api.BENCHMARK_EXPECTED_SITES, status_code=201, responses=errors(403, 404, 409))
def expect(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: ExpectedSiteCreate
) -> ExpectedSitePublic:
    return expected_sites.expect(ctx, user, benchmark_id, body)


@router.get(api.BENCHMARK_EXPECTED_SITES, responses=errors(403, 404))
def list_expected(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, benchmark_id: Id
) -> Sequence[ExpectedSitePublic]:
    return pager.send(expected_sites.expected_sites(ctx, user, benchmark_id, pager.page))


@router.delete(api.BENCHMARK_EXPECTED_SITES, responses=errors(403, 404))
def unexpect(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, kind: SiteKind, name: InstitutionName
) -> ExpectedSitePublic:
    site = ExpectedSiteCreate(kind=kind, name=name)
    return expected_sites.unexpect(ctx, user, benchmark_id, site)


@router.get(api.BENCHMARK_PARTICIPATION, responses=errors(403, 404))
def benchmark_participation(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id
) -> BenchmarkParticipation:
    return participation.participation(ctx, user, benchmark_id)


@router.get(api.BENCHMARK_RESULTS_EXPORT, responses=errors(403, 404))
def results_export(ctx: ContextDep, user: CurrentUser, benchmark_id: Id) -> BenchmarkResultsExport:
    return exports.released_results(ctx, user, benchmark_id)
