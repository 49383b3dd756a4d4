"""Typed dependency aliases for the routes: the service context and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medval.core.errors import NotAuthenticated
from medval.server.services.accounts import authenticate
from medval.server.services.context import ServiceContext
from medval.server.store.records import UserRecord

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a reverse proxy: the proxy's,
    unless uvicorn is told to trust its forwarded headers)."""
    return request.client.host if request.client is not None else "unknown"


ContextDep = Annotated[ServiceContext, Depends(_context)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: BearerDep) -> str:
    if credentials is None:
        raise NotAuthenticated("not logged in: send 'Authorization: Bearer <token>'")
    return credentials.credentials


TokenDep = Annotated[str, Depends(_token)]


def _current_user(ctx: ContextDep, token: TokenDep) -> UserRecord:
    return authenticate(ctx, token)


def optional_user(ctx: ContextDep, credentials: BearerDep) -> UserRecord | None:
    """The caller, or None when no token is sent (the route's OpenAPI says so)."""
    # A bad token is still an error: silently treating it as anonymous hides expiry.
    return authenticate(ctx, credentials.credentials) if credentials else None


CurrentUser = Annotated[UserRecord, Depends(_current_user)]
OptionalUser = Annotated[UserRecord | None, Depends(optional_user)]
