from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import SigningKeyCreate, SigningKeyPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import signing_keys

router = APIRouter(tags=["signing keys"], route_class=DocumentedRoute)


@router.get(api.MY_SIGNING_KEYS)
def my_signing_keys(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep
) -> Sequence[SigningKeyPublic]:
    """Oldest first."""
    return pager.send(signing_keys.my_signing_keys(ctx, user, pager.page))


@router.post(api.MY_SIGNING_KEYS, status_code=201, responses=errors(409))
def register_signing_key(
    ctx: ContextDep, user: CurrentUser, body: SigningKeyCreate
) -> SigningKeyPublic:
    return signing_keys.register_signing_key(ctx, user, body)


@router.get(api.SIGNING_KEY, responses=errors(404))
def signing_key(ctx: ContextDep, user: CurrentUser, key_id: str) -> SigningKeyPublic:
    return signing_keys.signing_key(ctx, key_id)
