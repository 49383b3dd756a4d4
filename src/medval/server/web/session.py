"""The pages' session: who the caller is (a session cookie or a bearer token), the
cookies a browser keeps, and the checks every state-changing form passes (CSRF).

A session cookie holds the very token ``accounts.log_in`` issues to the CLI, so logging
out (``accounts.log_out``) ends it and its expiry is the token's. Forms carry a
synchronizer token: an HMAC of the session token under a server secret; the login form,
before any session, a double-submit pair (a random cookie and its HMAC in the form). A
POST whose ``Origin`` is another site's is refused whatever it carries.

The secret is made per process when the app is built (``FormSecret.new``): the server's
settings hold no secret to derive it from. A restart therefore expires the forms already
on screen (the user reloads), and several server processes behind one address would
refuse each other's forms (they would need a shared secret in the settings).

It may import the core, the services and the settings; the routes of ``server/web`` use it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response

from medval.core.errors import NotAuthenticated
from medval.server.dependencies import BearerDep, ContextDep
from medval.server.services.accounts import authenticate
from medval.server.store.records import UserRecord

SESSION_COOKIE = "medval_session"
LOGIN_CSRF_COOKIE = "medval_login_csrf"
CSRF_FIELD = "csrf"
FORM_REFUSED = "This form has expired or did not come from medval; reload the page and try again."


class FormRefused(Exception):
    """A POST without a valid CSRF token, or from another origin: answered 403."""


@dataclass(frozen=True)
class FormSecret:
    """The server's key for CSRF tokens (see the module's docstring)."""

    key: bytes

    @classmethod
    def new(cls) -> FormSecret:
        return cls(secrets.token_bytes(32))

    def _sign(self, purpose: str, value: str) -> str:
        message = f"{purpose}:{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def for_session(self, session_token: str) -> str:
        """The synchronizer token of the forms a logged-in caller is shown."""
        return self._sign("session", session_token)

    def for_login(self, nonce: str) -> str:
        """The login form's token, paired with the ``LOGIN_CSRF_COOKIE`` nonce."""
        return self._sign("login", nonce)


def form_secret(request: Request) -> FormSecret:
    secret: FormSecret = request.app.state.form_secret
    return secret


FormSecretDep = Annotated[FormSecret, Depends(form_secret)]


@dataclass(frozen=True)
class PageCaller:
    """Who asks for a page: ``user`` None for a visitor. ``token`` is the session (cookie
    or bearer) token; ``stale_cookie``: a cookie came that no longer works (expired,
    revoked): the visit goes on logged out and the answer clears it."""

    user: UserRecord | None
    token: str | None = None
    stale_cookie: bool = False


def page_caller(ctx: ContextDep, request: Request, credentials: BearerDep) -> PageCaller:
    if credentials is not None:
        # A bearer token is the API's way in: a bad one is an error there, so here too.
        token = credentials.credentials
        return PageCaller(authenticate(ctx, token), token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return PageCaller(None)
    try:
        return PageCaller(authenticate(ctx, cookie), cookie)
    except NotAuthenticated:
        return PageCaller(None, stale_cookie=True)


PageCallerDep = Annotated[PageCaller, Depends(page_caller)]


async def _form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each). Parsed here with the standard
    library: FastAPI's ``Form`` needs python-multipart, not a dependency of medval, and
    these forms are a few short urlencoded fields (the body guard caps their size)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


FormDep = Annotated[dict[str, str], Depends(_form_fields)]


def require_same_origin(request: Request) -> None:
    """A POST that says it comes from another origin is refused (``FormRefused``)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise FormRefused


def require_token(sent: str | None, expected: str) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise FormRefused


def check_session_form(
    request: Request, caller: PageCaller, form: dict[str, str], secret: FormSecret
) -> None:
    """A logged-in caller's form: same origin, and its CSRF field matches the session."""
    require_same_origin(request)
    if caller.token is None:
        raise FormRefused
    require_token(form.get(CSRF_FIELD), secret.for_session(caller.token))


def login_nonce(request: Request) -> str:
    """The browser's login nonce, kept if it has one (two tabs may hold the form)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def check_login_form(request: Request, form: dict[str, str], secret: FormSecret) -> None:
    require_same_origin(request)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not nonce:
        raise FormRefused
    require_token(form.get(CSRF_FIELD), secret.for_login(nonce))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    path: str = "/",
    max_age: int | None = None,
) -> None:
    """Every cookie of the pages: unreadable by script, never sent from another site,
    and only over TLS when the page came over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(request: Request, response: Response, name: str, *, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, secure=_secure(request), httponly=True, samesite="strict"
    )


def start_session(
    request: Request, response: Response, token: str, expires_at: datetime, now: datetime
) -> None:
    seconds = max(1, int((expires_at - now).total_seconds()))
    set_cookie(request, response, SESSION_COOKIE, token, max_age=seconds)


def end_session(request: Request, response: Response) -> None:
    clear_cookie(request, response, SESSION_COOKIE)


def safe_next(value: str | None, default: str) -> str:
    """A local path to go to after logging in: one starting with a single "/" (never
    "//host" or "/\\host", which browsers read as another site), else ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    return value
