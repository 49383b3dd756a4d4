"""/inbox: what waits for the caller's decision (requests to join the benchmarks they
own; pending benchmarks, for an admin), each with Approve and Reject, and what changed
since their last visit. A decision calls the service the API calls, so it is allowed
and refused exactly as there; a refusal shows the API's status and message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from medval.core.errors import MedvalError
from medval.core.schemas import Id
from medval.core.states import ApprovalStatus
from medval.server.dependencies import ContextDep
from medval.server.services import associations, benchmarks
from medval.server.store.records import UserRecord
from medval.server.web.changes import SEEN_COOKIE, changes_since, last_visit, seen_value
from medval.server.web.participation import participation, pending_benchmarks
from medval.server.web.rendering import page, problem, see_other, to_login
from medval.server.web.session import (
    FormDep,
    FormSecret,
    FormSecretDep,
    PageCaller,
    PageCallerDep,
    check_session_form,
    clear_cookie,
    require_same_origin,
    set_cookie,
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

INBOX = "/inbox"
# The one-line confirmation of the last decision, shown once on the next /inbox.
NOTICE_COOKIE = "medval_notice"
# A year: the last visit outlives a session (it is only a time, kept by the browser).
SEEN_SECONDS = 365 * 24 * 3600
DECISIONS = {"approved": ApprovalStatus.APPROVED, "rejected": ApprovalStatus.REJECTED}
NOT_A_DECISION = "a decision is Approve or Reject"


@router.get(INBOX)
def inbox(request: Request, ctx: ContextDep, caller: PageCallerDep) -> Response:
    user = caller.user
    if user is None:
        return to_login(request, caller, INBOX)
    mine = participation(ctx, user)
    since = last_visit(user, request.cookies.get(SEEN_COOKIE))
    changes = (
        changes_since(since, user, mine.associations, mine.results, mine.benchmark_names)
        if since is not None
        else None
    )
    notice = unquote(request.cookies.get(NOTICE_COOKIE, ""))
    context = {
        "requests": mine.requests_to_decide(),
        "pending_benchmarks": pending_benchmarks(ctx, user),
        "names": mine.benchmark_names,
        "changes": changes,
        "since": since,
        "notice": notice,
    }
    response = page(request, caller, "inbox.html", context)
    now: datetime = ctx.clock()
    set_cookie(
        request, response, SEEN_COOKIE, seen_value(user, now), path=INBOX, max_age=SEEN_SECONDS
    )
    if notice:
        clear_cookie(request, response, NOTICE_COOKIE, path=INBOX)
    return response


def _decision(
    request: Request,
    caller: PageCaller,
    form: dict[str, str],
    secret: FormSecret,
    decide: Callable[[UserRecord, ApprovalStatus], str],
) -> Response:
    """Check the form, make the decision (``decide`` returns its one-line confirmation),
    then back to the inbox, which shows it once."""
    require_same_origin(request)
    if caller.user is None:
        return to_login(request, caller, INBOX)
    check_session_form(request, caller, form, secret)
    status = DECISIONS.get(form.get("decision", ""))
    if status is None:
        return problem(request, caller, 422, NOT_A_DECISION)
    try:
        notice = decide(caller.user, status)
    except MedvalError as refused:
        return problem(request, caller, refused.http_status, refused.message)
    response = see_other(INBOX)
    set_cookie(request, response, NOTICE_COOKIE, quote(notice), path=INBOX, max_age=300)
    return response


def _verb(status: ApprovalStatus) -> str:
    return "Approved" if status is ApprovalStatus.APPROVED else "Rejected"


@router.post("/inbox/associations/{association_id}")
def decide_association(
    request: Request,
    ctx: ContextDep,
    caller: PageCallerDep,
    form: FormDep,
    secret: FormSecretDep,
    association_id: Id,
) -> Response:
    def decide(user: UserRecord, status: ApprovalStatus) -> str:
        decided = associations.decide_association(ctx, user, association_id, status)
        benchmark = benchmarks.get_benchmark(ctx, user, decided.benchmark_id)
        what = f"{decided.kind.value} {decided.entity_name}"
        return f"{_verb(status)} {what} on benchmark {benchmark.name}."

    return _decision(request, caller, form, secret, decide)


@router.post("/inbox/benchmarks/{benchmark_id}")
def decide_benchmark(
    request: Request,
    ctx: ContextDep,
    caller: PageCallerDep,
    form: FormDep,
    secret: FormSecretDep,
    benchmark_id: Id,
) -> Response:
    def decide(user: UserRecord, status: ApprovalStatus) -> str:
        decided = benchmarks.decide_benchmark(ctx, user, benchmark_id, status)
        return f"{_verb(status)} benchmark {decided.name}."

    return _decision(request, caller, form, secret, decide)
