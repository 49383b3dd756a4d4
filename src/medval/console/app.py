"""The console's web app: its doors (Host, one-time token, session cookie) in front of
its pages, the same security headers as the hosted pages (no script, nothing from
another origin), and every failure shown as one line, never a traceback.

Imports: FastAPI, the client's settings, the core's errors, and this package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from medval import look
from medval.client.settings import ClientSettings
from medval.console.pages import STATIC, ConsoleState, FormRefused, render, router
from medval.console.review_pages import router as review_router
from medval.console.run_jobs import RunJobs
from medval.console.session import COOKIE, ConsoleDoor
from medval.core.errors import MedvalError

# As the hosted pages (server/web/pages.py): no script at all, nothing from elsewhere,
# forms post here only, never framed; and nothing kept in a cache (payloads, hashes).
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
UNAUTHORISED = "Use the address that medval console printed in its terminal."

Handler = Callable[[Request], Awaitable[Response]]


def create_app(settings: ClientSettings, door: ConsoleDoor, runs: RunJobs | None = None) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = ConsoleState(settings, door, runs or RunJobs(settings))
    # medval's sheet first (the more specific mount), then the console's own rules.
    app.mount("/static/look", StaticFiles(directory=look.FOLDER), name="look")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(review_router)

    @app.middleware("http")
    async def doors(request: Request, call_next: Handler) -> Response:
        response = await _through_doors(door, request, call_next)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(MedvalError)
    async def failed(request: Request, exc: MedvalError) -> Response:
        return render(request, "message.html", {"message": exc.message}, exc.http_status)

    @app.exception_handler(FormRefused)
    async def refused(request: Request, exc: FormRefused) -> Response:
        message = "This form is not one the console gave you; reload the page and try again."
        return render(request, "message.html", {"message": message}, 403)

    return app


async def _through_doors(door: ConsoleDoor, request: Request, call_next: Handler) -> Response:
    if not door.host_allowed(request.headers.get("host")):
        return PlainTextResponse("This console answers on 127.0.0.1 or localhost only.", 400)
    signed_in = door.has_session(request.cookies.get(COOKIE))
    token = request.query_params.get("token")
    if token is not None and request.url.path == "/" and (signed_in or door.redeem(token)):
        # The token leaves the address bar (and the history) at once.
        to_start = RedirectResponse("/", status_code=303)
        if not signed_in:
            to_start.set_cookie(COOKIE, door.session, httponly=True, samesite="strict", path="/")
        return to_start
    if not signed_in and not request.url.path.startswith("/static/"):
        return HTMLResponse(_one_line_page(UNAUTHORISED), 401)
    return await call_next(request)


def _one_line_page(line: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>medval console</title></head>"
        f"<body><main><p>{line}</p></main></body></html>"
    )
