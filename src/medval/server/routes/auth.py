from __future__ import annotations

from fastapi import APIRouter, Request, Response

from medval.core import api
from medval.core.schemas import Credentials, TokenPublic
from medval.server.dependencies import ContextDep, CurrentUser, TokenDep, client_address
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import accounts

router = APIRouter(tags=["auth"], route_class=DocumentedRoute)


@router.post(api.TOKEN, responses=errors(401, 429, 503))
def log_in(ctx: ContextDep, body: Credentials, request: Request) -> TokenPublic:
    token, record = accounts.log_in(ctx, body, client_address(request))
    return TokenPublic(token=token, expires_at=record.expires_at)


@router.delete(api.TOKEN, status_code=204)
def log_out(ctx: ContextDep, user: CurrentUser, token: TokenDep) -> Response:
    accounts.log_out(ctx, user, token)
    return Response(status_code=204)
