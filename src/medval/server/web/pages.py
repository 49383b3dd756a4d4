"""The pages anyone may read: the catalogue of benchmarks and a benchmark's page (its
leaderboard with intervals, a forest plot, per-site results where released).

Each page asks the same services as the API, as the same caller (the session cookie of
``server/web/login``, or a bearer token as the API takes it; a visitor without either sees
what an anonymous API caller sees), so a page never shows more than the API would. Routes
stay thin: call, then render. Logging in is in ``login``, one's own work in ``mine``, the
decisions waiting in ``inbox``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from medval.core.errors import NotAuthenticated, NotFound, PermissionDenied
from medval.core.result_schemas import LeaderboardPublic
from medval.core.schemas import Id
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic
from medval.report.forest_plot import forest_plot
from medval.server.dependencies import ContextDep
from medval.server.services import benchmarks, training_experiments
from medval.server.services.leaderboard import leaderboard
from medval.server.services.phases import list_phases
from medval.server.services.shift import benchmark_shift
from medval.server.services.subgroups import benchmark_subgroups
from medval.server.web.rendering import STATIC, page
from medval.server.web.session import PageCallerDep

__all__ = ["STATIC", "router"]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _link(url: str) -> str | None:
    """A committee's documentation address, linked only if it is a web address (a
    ``javascript:`` or ``data:`` one is shown as text, never followed)."""
    return url if url.startswith(("https://", "http://")) else None


@router.get("/")
def catalogue(request: Request, ctx: ContextDep, caller: PageCallerDep) -> HTMLResponse:
    shown = benchmarks.list_benchmarks(ctx, caller.user).items
    # Training experiments are for accounts only, as in the API (a visitor sees none).
    experiments = (
        training_experiments.list_experiments(ctx, caller.user, None).items if caller.user else []
    )
    return page(
        request, caller, "catalogue.html", {"benchmarks": shown, "experiments": experiments}
    )


@router.get("/benchmarks/{benchmark_id}")
def benchmark_page(
    request: Request,
    ctx: ContextDep,
    caller: PageCallerDep,
    benchmark_id: Id,
    phase: str | None = None,
) -> HTMLResponse:
    """``?phase=NAME``: that phase's leaderboard (default: the one open now, else the
    last); the page links each phase's (issue 19)."""
    user = caller.user
    try:
        benchmark = benchmarks.get_benchmark(ctx, user, benchmark_id)
        phases = list_phases(ctx, user, benchmark_id)
        if phase is not None and phase not in {p.name for p in phases}:
            raise NotFound(f"phase {phase} of benchmark {benchmark.name}")
    except NotFound as missing:
        what = {"what": f"benchmark {benchmark_id}" if phase is None else missing.message}
        return page(request, caller, "not_found.html", what, 404)
    board: LeaderboardPublic | None = None
    withheld = ""
    shift: BenchmarkShiftPublic | None = None
    subgroups: BenchmarkSubgroupsPublic | None = None
    try:
        board = leaderboard(ctx, user, benchmark_id, with_sites=True, phase=phase)
        shift = benchmark_shift(ctx, user, benchmark_id)  # released as the leaderboard is
        subgroups = benchmark_subgroups(ctx, user, benchmark_id, phase)  # so are subgroups
    except (NotAuthenticated, PermissionDenied) as reason:
        withheld = reason.message
    return page(
        request,
        caller,
        "benchmark.html",
        {
            "benchmark": benchmark,
            "board": board,
            "withheld": withheld,
            "plot": forest_plot(board) if board is not None else None,
            "docs_link": _link(benchmark.docs_url),
            "shift": shift,
            "subgroups": subgroups,
            "phases": phases,
        },
    )
