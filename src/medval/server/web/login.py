"""Logging in and out of the pages, with the accounts, the login guard and the tokens
the CLI uses (``services.accounts``). Routes stay thin: check the form, call, answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from medval.core.errors import MedvalError, RateLimited
from medval.core.schemas import Credentials
from medval.server.dependencies import ContextDep, client_address
from medval.server.services import accounts
from medval.server.web.rendering import page, see_other
from medval.server.web.session import (
    LOGIN_CSRF_COOKIE,
    FormDep,
    FormSecret,
    FormSecretDep,
    PageCaller,
    PageCallerDep,
    check_login_form,
    check_session_form,
    clear_cookie,
    end_session,
    login_nonce,
    require_same_origin,
    safe_next,
    set_cookie,
    start_session,
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

AFTER_LOGIN = "/inbox"
GIVE_BOTH = "give your username and password"


def _login_form(
    request: Request,
    caller: PageCaller,
    secret: FormSecret,
    next_path: str,
    *,
    username: str = "",
    error: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    nonce = login_nonce(request)
    context = {
        "login_csrf": secret.for_login(nonce),
        "next": next_path,
        "username": username,
        "error": error,
    }
    response = page(request, caller, "login.html", context, status_code)
    response.headers.update(headers or {})
    set_cookie(request, response, LOGIN_CSRF_COOKIE, nonce, path="/login")
    return response


@router.get("/login")
def login_page(
    request: Request, caller: PageCallerDep, secret: FormSecretDep, next: str = ""
) -> HTMLResponse:
    return _login_form(request, caller, secret, safe_next(next, AFTER_LOGIN))


@router.post("/login")
def log_in(request: Request, ctx: ContextDep, form: FormDep, secret: FormSecretDep) -> Response:
    # The caller's old session plays no part: this form starts a new one.
    check_login_form(request, form, secret)
    next_path = safe_next(form.get("next"), AFTER_LOGIN)
    username = form.get("username", "")
    visitor = PageCaller(None)
    try:
        credentials = Credentials(username=username, password=form.get("password", ""))
    except ValidationError:
        return _login_form(
            request,
            visitor,
            secret,
            next_path,
            username=username,
            error=GIVE_BOTH,
            status_code=422,
        )
    try:
        token, record = accounts.log_in(ctx, credentials, client_address(request))
    except MedvalError as refused:  # wrong password, too many failures, busy
        headers = None
        if isinstance(refused, RateLimited):
            headers = {"Retry-After": str(refused.retry_after_seconds)}
        return _login_form(
            request,
            visitor,
            secret,
            next_path,
            username=username,
            error=refused.message,
            status_code=refused.http_status,
            headers=headers,
        )
    response = see_other(next_path)
    start_session(request, response, token, record.expires_at, ctx.clock())
    clear_cookie(request, response, LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def log_out(
    request: Request,
    ctx: ContextDep,
    caller: PageCallerDep,
    form: FormDep,
    secret: FormSecretDep,
) -> Response:
    require_same_origin(request)
    response = see_other("/")
    if caller.user is not None and caller.token is not None:
        check_session_form(request, caller, form, secret)
        accounts.log_out(ctx, caller.user, caller.token)
    # Logged out already (no session, or one that no longer works): only the cookie goes.
    end_session(request, response)
    return response
