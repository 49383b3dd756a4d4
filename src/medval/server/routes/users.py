from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import UserCreate, UserPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import accounts

router = APIRouter(tags=["users"], route_class=DocumentedRoute)


@router.get(api.ME)
def me(user: CurrentUser) -> UserPublic:
    return user


@router.get(api.USERS, responses=errors(403))
def list_users(ctx: ContextDep, user: CurrentUser) -> Sequence[UserPublic]:
    return accounts.list_users(ctx, user)


@router.post(api.USERS, status_code=201, responses=errors(403, 409))
def create_user(ctx: ContextDep, user: CurrentUser, body: UserCreate) -> UserPublic:
    return accounts.create_user(ctx, user, body)
