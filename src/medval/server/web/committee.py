"""A benchmark committee's page: /benchmarks/{id}/participation, the participation view
(``services.participation``) for the benchmark's owner and admins, as ``medval benchmark
participation`` shows it. Anyone else gets the API's one-line refusal; logged out, the
login page. Names, dates and counts only: no patient data.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from medval.core.errors import NotFound, PermissionDenied
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep
from medval.server.services.participation import participation
from medval.server.web.rendering import page, problem, to_login
from medval.server.web.session import PageCallerDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/benchmarks/{benchmark_id}/participation")
def participation_page(
    request: Request, ctx: ContextDep, caller: PageCallerDep, benchmark_id: Id
) -> Response:
    if caller.user is None:
        return to_login(request, caller, f"/benchmarks/{benchmark_id}/participation")
    try:
        view = participation(ctx, caller.user, benchmark_id)
    except NotFound:
        what = {"what": f"benchmark {benchmark_id}"}
        return page(request, caller, "not_found.html", what, 404)
    except PermissionDenied as refused:
        return problem(request, caller, 403, refused.message)
    return page(request, caller, "participation.html", {"view": view})
