from __future__ import annotations

from fastapi import APIRouter, Response

from medval.core import api
from medval.core.schemas import Credentials, TokenPublic
from medval.server.dependencies import ContextDep, CurrentUser, TokenDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import accounts

router = APIRouter(tags=["auth"], route_class=DocumentedRoute)


@router.post(api.TOKEN, responses=errors(401))
def log_in(ctx: ContextDep, body: Credentials) -> TokenPublic:
    token, record = accounts.log_in(ctx, body)
    return TokenPublic(token=token, expires_at=record.expires_at)


@router.delete(api.TOKEN, status_code=204)
def log_out(ctx: ContextDep, _user: CurrentUser, token: TokenDep) -> Response:
    accounts.log_out(ctx, token)
    return Response(status_code=204)
