from __future__ import annotations

from fastapi import APIRouter, Response

from medval.core import api
from medval.core.schemas import Credentials, TokenPublic
from medval.server.dependencies import ContextDep, CurrentUser, TokenDep
from medval.server.services import accounts

router = APIRouter(tags=["auth"])


@router.post(api.TOKEN)
def log_in(ctx: ContextDep, body: Credentials) -> TokenPublic:
    token, record = accounts.log_in(ctx, body)
    return TokenPublic(token=token, expires_at=record.expires_at)


@router.delete(api.TOKEN, status_code=204)
def log_out(ctx: ContextDep, user: CurrentUser, token: TokenDep) -> Response:
    accounts.log_out(ctx, user, token)
    return Response(status_code=204)
