"""Routes of training associations: a dataset asks to join an experiment; its owner
decides; either side revokes; the dataset's owner sets the terms."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.membership_schemas import DataPolicy
from medval.core.schemas import Decision, Id
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import TrainingAssociationCreate, TrainingAssociationPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import training_associations

router = APIRouter(tags=["training"], route_class=DocumentedRoute)


@router.post(api.TRAINING_ASSOCIATIONS, status_code=201, responses=errors(403, 404, 409))
def request_association(
    ctx: ContextDep, user: CurrentUser, body: TrainingAssociationCreate
) -> TrainingAssociationPublic:
    return training_associations.request_association(ctx, user, body)


@router.get(api.TRAINING_ASSOCIATIONS)
def list_associations(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    experiment_id: Id | None = None,
    dataset_id: Id | None = None,
    status: ApprovalStatus | None = None,
) -> Sequence[TrainingAssociationPublic]:
    found = training_associations.list_associations(
        ctx, user, experiment_id, dataset_id, status, pager.page
    )
    return pager.send(found)


@router.get(api.TRAINING_ASSOCIATION, responses=errors(404))
def get_association(
    ctx: ContextDep, user: CurrentUser, association_id: Id
) -> TrainingAssociationPublic:
    return training_associations.get_association(ctx, user, association_id)


@router.put(api.TRAINING_ASSOCIATION_DECISION, responses=errors(403, 404, 409))
def decide(
    ctx: ContextDep, user: CurrentUser, association_id: Id, body: Decision
) -> TrainingAssociationPublic:
    return training_associations.decide_association(ctx, user, association_id, body.status)


@router.post(api.TRAINING_ASSOCIATION_REVOCATION, responses=errors(404, 409))
def revoke(ctx: ContextDep, user: CurrentUser, association_id: Id) -> TrainingAssociationPublic:
    return training_associations.revoke_association(ctx, user, association_id)


@router.put(api.TRAINING_ASSOCIATION_POLICY, responses=errors(403, 404))
def set_policy(
    ctx: ContextDep, user: CurrentUser, association_id: Id, body: DataPolicy
) -> TrainingAssociationPublic:
    """The dataset owner's terms on the association, replaced whole."""
    return training_associations.set_policy(ctx, user, association_id, body)
