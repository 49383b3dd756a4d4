"""Routes of a benchmark's membership rules: its agreement, acceptances, auto-approval,
and its datasets' policies as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.membership_schemas import (
    AgreementAcceptanceCreate,
    AgreementAcceptancePublic,
    AutoApprovalRule,
    DatasetTermsPublic,
    MembershipAgreement,
)
from medval.core.schemas import BenchmarkPublic, Id
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import data_policies, membership

router = APIRouter(tags=["membership"], route_class=DocumentedRoute)


@router.put(api.BENCHMARK_AGREEMENT, responses=errors(403, 404))
def set_agreement(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: MembershipAgreement
) -> BenchmarkPublic:
    return membership.set_agreement(ctx, user, benchmark_id, body)


@router.post(api.AGREEMENT_ACCEPTANCES, status_code=201, responses=errors(404, 409))
def accept_agreement(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: AgreementAcceptanceCreate
) -> AgreementAcceptancePublic:
    return membership.accept_agreement(ctx, user, benchmark_id, body.sha256)


@router.get(api.AGREEMENT_ACCEPTANCES, responses=errors(404))
def list_acceptances(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, benchmark_id: Id
) -> Sequence[AgreementAcceptancePublic]:
    return pager.send(membership.list_acceptances(ctx, user, benchmark_id, pager.page))


@router.put(api.BENCHMARK_AUTO_APPROVAL, responses=errors(403, 404))
def set_auto_approval(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: AutoApprovalRule
) -> BenchmarkPublic:
    return membership.set_auto_approval(ctx, user, benchmark_id, body)


@router.get(api.BENCHMARK_DATA_POLICIES, responses=errors(404))
def list_data_policies(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, benchmark_id: Id
) -> Sequence[DatasetTermsPublic]:
    """By association id."""
    return pager.send(data_policies.policies_on_benchmark(ctx, user, benchmark_id, pager.page))
