from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from medval.core import api
from medval.core.schemas import (
    AccountStatus,
    Id,
    PasswordChange,
    TokensRevoked,
    UserCreate,
    UserPublic,
)
from medval.server.dependencies import ContextDep, CurrentUser, TokenDep, client_address
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import accounts

router = APIRouter(tags=["users"], route_class=DocumentedRoute)


@router.get(api.ME)
def me(user: CurrentUser) -> UserPublic:
    return user


@router.get(api.USERS, responses=errors(403))
def list_users(ctx: ContextDep, user: CurrentUser, pager: PagerDep) -> Sequence[UserPublic]:
    return pager.send(accounts.list_users(ctx, user, pager.page))


@router.post(api.USERS, status_code=201, responses=errors(403, 409))
def create_user(ctx: ContextDep, user: CurrentUser, body: UserCreate) -> UserPublic:
    return accounts.create_user(ctx, user, body)


@router.put(api.USER_PASSWORD, status_code=204, responses=errors(403, 404, 429, 503))
def change_password(
    ctx: ContextDep,
    user: CurrentUser,
    token: TokenDep,
    user_id: Id,
    body: PasswordChange,
    request: Request,
) -> Response:
    accounts.change_password(ctx, user, user_id, body, client_address(request), token)
    return Response(status_code=204)


@router.put(api.USER_STATUS, responses=errors(403, 404))
def set_status(ctx: ContextDep, user: CurrentUser, user_id: Id, body: AccountStatus) -> UserPublic:
    return accounts.set_account_status(ctx, user, user_id, body)


@router.delete(api.USER_TOKENS, responses=errors(403, 404))
def revoke_tokens(ctx: ContextDep, user: CurrentUser, user_id: Id) -> TokensRevoked:
    return TokensRevoked(revoked=accounts.revoke_tokens(ctx, user, user_id))
