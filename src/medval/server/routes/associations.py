from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.membership_schemas import DataPolicy
from medval.core.schemas import AssociationCreate, AssociationPublic, Decision, Id
from medval.core.states import ApprovalStatus, AssociationKind
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import associations, data_policies

router = APIRouter(tags=["associations"], route_class=DocumentedRoute)


@router.post(api.ASSOCIATIONS, status_code=201, responses=errors(403, 404, 409))
def request_association(
    ctx: ContextDep, user: CurrentUser, body: AssociationCreate
) -> AssociationPublic:
    return associations.request_association(ctx, user, body)


@router.get(api.ASSOCIATIONS)
def list_associations(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    benchmark_id: Id | None = None,
    status: ApprovalStatus | None = None,
    kind: AssociationKind | None = None,
) -> Sequence[AssociationPublic]:
    found = associations.list_associations(ctx, user, benchmark_id, kind, status, pager.page)
    return pager.send(found)


@router.put(api.ASSOCIATION_DECISION, responses=errors(403, 404, 409))
def decide(
    ctx: ContextDep, user: CurrentUser, association_id: Id, body: Decision
) -> AssociationPublic:
    return associations.decide_association(ctx, user, association_id, body.status)


@router.get(api.ASSOCIATION, responses=errors(404))
def get_association(ctx: ContextDep, user: CurrentUser, association_id: Id) -> AssociationPublic:
    return associations.get_association(ctx, user, association_id)


@router.post(api.ASSOCIATION_REVOCATION, responses=errors(404, 409))
def revoke(ctx: ContextDep, user: CurrentUser, association_id: Id) -> AssociationPublic:
    return associations.revoke_association(ctx, user, association_id)


@router.put(api.ASSOCIATION_POLICY, responses=errors(403, 404))
def set_policy(
    ctx: ContextDep, user: CurrentUser, association_id: Id, body: DataPolicy
) -> AssociationPublic:
    """The dataset owner's terms on the association, replaced whole."""
    return data_policies.set_policy(ctx, user, association_id, body)
