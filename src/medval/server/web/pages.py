"""The pages anyone may read: the catalogue of benchmarks and a benchmark's page (its
leaderboard with intervals, a forest plot, per-site results where released).

Each page asks the same services as the API, as the same caller (a bearer token, as the
API takes it; a visitor without one sees what an anonymous API caller sees), so a page
never shows more than the API would. Routes stay thin: call, then render.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from medval.core.errors import NotAuthenticated, NotFound, PermissionDenied
from medval.core.result_schemas import LeaderboardPublic
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep, OptionalUser
from medval.server.services import benchmarks
from medval.server.services.leaderboard import leaderboard
from medval.server.web.forest_plot import forest_plot

HERE = Path(__file__).parent
STATIC = HERE / "static"
# Jinja2Templates turns autoescaping on for .html: every name and text is escaped.
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
# The pages run no script and load nothing from elsewhere; the browser is told so, which
# also stops any markup that escaping might ever miss.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _link(url: str) -> str | None:
    """A committee's documentation address, linked only if it is a web address (a
    ``javascript:`` or ``data:`` one is shown as text, never followed)."""
    return url if url.startswith(("https://", "http://")) else None


@router.get("/")
def catalogue(request: Request, ctx: ContextDep, user: OptionalUser) -> HTMLResponse:
    shown = benchmarks.list_benchmarks(ctx, user)
    return templates.TemplateResponse(
        request, "catalogue.html", {"benchmarks": shown, "user": user}, headers=HEADERS
    )


@router.get("/benchmarks/{benchmark_id}")
def benchmark_page(
    request: Request, ctx: ContextDep, user: OptionalUser, benchmark_id: Id
) -> HTMLResponse:
    try:
        benchmark = benchmarks.get_benchmark(ctx, user, benchmark_id)
    except NotFound:
        return templates.TemplateResponse(
            request,
            "not_found.html",
            {"what": f"benchmark {benchmark_id}", "user": user},
            status_code=404,
            headers=HEADERS,
        )
    board: LeaderboardPublic | None = None
    withheld = ""
    try:
        board = leaderboard(ctx, user, benchmark_id)
    except (NotAuthenticated, PermissionDenied) as reason:
        withheld = reason.message
    return templates.TemplateResponse(
        request,
        "benchmark.html",
        {
            "benchmark": benchmark,
            "board": board,
            "withheld": withheld,
            "plot": forest_plot(board) if board is not None else None,
            "docs_link": _link(benchmark.docs_url),
            "user": user,
        },
        headers=HEADERS,
    )
