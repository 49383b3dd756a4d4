"""Private models' keys: sites' encryption keys, and model keys wrapped to them (thin:
``services.encryption_keys``, ``services.model_keys``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.model_key_schemas import (
    EncryptionKeyCreate,
    EncryptionKeyPublic,
    ModelKeyRecipient,
    WrappedModelKeyCreate,
    WrappedModelKeyPublic,
)
from medval.core.schemas import Id, Name
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import encryption_keys, model_keys

router = APIRouter(tags=["model keys"], route_class=DocumentedRoute)


@router.get(api.MY_ENCRYPTION_KEYS)
def my_encryption_keys(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep
) -> Sequence[EncryptionKeyPublic]:
    """Oldest first."""
    return pager.send(encryption_keys.my_encryption_keys(ctx, user, pager.page))


@router.post(api.MY_ENCRYPTION_KEYS, status_code=201, responses=errors(409))
def register_encryption_key(
    ctx: ContextDep, user: CurrentUser, body: EncryptionKeyCreate
) -> EncryptionKeyPublic:
    return encryption_keys.register_encryption_key(ctx, user, body)


@router.get(api.MODEL_KEY_RECIPIENTS, responses=errors(403, 404))
def key_recipients(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> list[ModelKeyRecipient]:
    """The model's owner only: the approved sites and where each stands with its key."""
    return model_keys.key_recipients(ctx, user, cube_id)


@router.put(api.MODEL_KEY_GRANT, responses=errors(403, 404, 409))
def grant_model_key(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, username: Name, body: WrappedModelKeyCreate
) -> WrappedModelKeyPublic:
    return model_keys.grant_model_key(ctx, user, cube_id, username, body)


@router.delete(api.MODEL_KEY_GRANT, responses=errors(403, 404))
def withhold_model_key(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, username: Name
) -> ModelKeyRecipient:
    return model_keys.withhold_model_key(ctx, user, cube_id, username)


@router.get(api.RELEASED_MODEL_KEY, responses=errors(403, 404))
def released_model_key(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> WrappedModelKeyPublic:
    """The caller's own wrapped key, released while its association is approved."""
    return model_keys.released_model_key(ctx, user, cube_id)
