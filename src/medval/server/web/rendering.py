"""How every page is answered: its template with the header's caller and logout form,
the security headers, and a stale session cookie cleared on the way.

It may import the core and ``server/web``'s session; the page routes use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from medval import look
from medval.server.web.session import (
    FORM_REFUSED,
    SESSION_COOKIE,
    FormSecret,
    PageCaller,
    clear_cookie,
    form_secret,
)

HERE = Path(__file__).parent
STATIC = look.FOLDER  # served at /static: the shared sheet
# Jinja2Templates turns autoescaping on for .html: every name and text is escaped.
templates = Jinja2Templates(directory=HERE / "templates")

# The pages run no script and load nothing from elsewhere; the browser is told so, which
# also stops any markup that escaping might ever miss. Forms post only to this site.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    # No address is sent to other sites. Not "no-referrer": under it a browser sends
    # "Origin: null" with every form, and the forms' origin check needs the real one.
    "Referrer-Policy": "same-origin",
}


def page(
    request: Request,
    caller: PageCaller,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """``template`` rendered for ``caller``: the header names them and holds their
    logout form (with its CSRF token)."""
    secret: FormSecret = form_secret(request)
    csrf = secret.for_session(caller.token) if caller.token else ""
    response = templates.TemplateResponse(
        request,
        template,
        {"user": caller.user, "csrf": csrf, **context},
        status_code=status_code,
        headers=HEADERS,
    )
    if caller.stale_cookie:
        clear_cookie(request, response, SESSION_COOKIE)
    return response


def problem(request: Request, caller: PageCaller, status_code: int, message: str) -> HTMLResponse:
    """A one-line refusal, with the status the API gives for the same thing."""
    return page(request, caller, "problem.html", {"message": message}, status_code)


def form_refused(request: Request) -> HTMLResponse:
    """The answer to a form without a valid CSRF token or from another origin. The
    caller is not looked up: nothing about the session is trusted here."""
    return page(
        request, PageCaller(None), "problem.html", {"message": FORM_REFUSED, "plain": True}, 403
    )


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=HEADERS)


def to_login(request: Request, caller: PageCaller, back_to: str) -> RedirectResponse:
    """A page of one's own, asked for logged out: log in first, then come back."""
    response = see_other(f"/login?next={back_to}")
    if caller.stale_cookie:
        clear_cookie(request, response, SESSION_COOKIE)
    return response
