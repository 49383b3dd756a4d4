"""The pages' session: who the caller is (a session cookie or a bearer token), the
cookies a browser keeps, and the checks every state-changing form passes (CSRF).

A session cookie holds the very token ``accounts.log_in`` issues to the CLI, so logging
out (``accounts.log_out``) ends it and its expiry is the token's. Forms carry a
synchronizer token: an HMAC of the session token under a server secret; the login form,
before any session, a double-submit pair (a random cookie and its HMAC in the form). A
POST whose ``Origin`` is another site's is refused whatever it carries.

The secret is a random key kept in the server's data folder (``FormSecret.kept_in``),
made on the first start and read on every later one: a restart keeps the forms on
screen valid, and server processes sharing a data folder accept each other's forms.

It may import the core, the services and the settings; the routes of ``server/web`` use it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request, Response

from medval.core.errors import InvalidInput, NotAuthenticated
from medval.server.dependencies import BearerDep, ContextDep
from medval.server.services.accounts import authenticate
from medval.server.store.records import UserRecord

SESSION_COOKIE = "medval_session"
LOGIN_CSRF_COOKIE = "medval_login_csrf"
CSRF_FIELD = "csrf"
FORM_KEY_FILE = "form-key"
KEY_BYTES = 32
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

    @classmethod
    def kept_in(cls, folder: Path) -> FormSecret:
        """The key in ``folder/FORM_KEY_FILE``, made there (readable by its owner only)
        by whichever process starts first."""
        path = folder / FORM_KEY_FILE
        folder.mkdir(parents=True, exist_ok=True)
        try:
            made = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # another process may be writing it this very moment
                key = path.read_bytes()
                if len(key) == KEY_BYTES:
                    return cls(key)
                time.sleep(0.02)
            raise InvalidInput(
                f"{path} is not a form key of {KEY_BYTES} bytes; remove it and restart"
            ) from None
        key = secrets.token_bytes(KEY_BYTES)
        with os.fdopen(made, "wb") as out:
            out.write(key)
        return cls(key)

    def _sign(self, purpose: str, value: str) -> str:
        message = f"{purpose}:{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def for_session(self, session_token: str) -> str:
        """The synchronizer token of the forms a logged-in caller is shown."""
        return self._sign("session", session_token)

    def for_login(self, nonce: str) -> str:
        """The login form's token, paired with the ``LOGIN_CSRF_COOKIE`` nonce."""
        return self._sign("login", nonce)


_FIRST_USE = threading.Lock()


def app_form_secret(app: FastAPI) -> FormSecret:
    """The app's key, read (or made) in ``app.state.form_key_folder`` on first use, so that
    building an app (to print its OpenAPI document, say) writes nothing anywhere; the
    server reads it as it starts (``serve``), so a damaged key stops it there."""
    with _FIRST_USE:
        secret: FormSecret | None = app.state.form_secret
        if secret is None:
            secret = app.state.form_secret = FormSecret.kept_in(app.state.form_key_folder)
    return secret


def form_secret(request: Request) -> FormSecret:
    return app_form_secret(request.app)


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
