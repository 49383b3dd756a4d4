"""The console's pages: pending executions, a run's progress, a result's payload, and
the local audit log. Routes stay thin: check the form, call a client use case, render.

Imports: the client's use cases, the core, and this package's doors and runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from medval.client.local_session import local_audit_log, local_executor, logged_in_client
from medval.client.pending_review import execution_hashes, execution_state, policy_clauses
from medval.client.result_upload import local_result_to_upload, upload_reviewed, upload_signer
from medval.client.runs import plan, should_run, upload_payload
from medval.client.settings import ClientSettings
from medval.client.workspace import Workspace, check_result_key
from medval.console.run_jobs import RunJobs, RunStatus
from medval.console.session import CSRF_FIELD, ConsoleDoor
from medval.core.errors import NotFound

HERE = Path(__file__).parent
STATIC = HERE / "static"
# Autoescaped (.html): every name, hash and message a server or a cube gave is escaped.
templates = Jinja2Templates(directory=HERE / "templates")
MAX_FORM_BYTES = 4096

router = APIRouter(default_response_class=HTMLResponse)


@dataclass(frozen=True)
class ConsoleState:
    """What every page needs: the settings, the console's doors, and its runs."""

    settings: ClientSettings
    door: ConsoleDoor
    runs: RunJobs

    @property
    def workspace(self) -> Workspace:
        return Workspace.of(self.settings)


def _state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


ConsoleDep = Annotated[ConsoleState, Depends(_state)]


class FormRefused(Exception):
    """A POST without the console's CSRF token (or too large to be one of its forms)."""


async def checked_form(request: Request, console: ConsoleState) -> dict[str, str]:
    """The posted form's fields, once its CSRF token matches."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormRefused()
    fields = {name: values[0] for name, values in parse_qs(body.decode("latin-1")).items()}
    if not console.door.csrf_ok(fields.get(CSRF_FIELD)):
        raise FormRefused()
    return fields


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    console = _state(request)
    return templates.TemplateResponse(
        request, name, {"csrf": console.door.csrf, **context}, status_code=status_code
    )


@router.get("/")
def pending(request: Request, console: ConsoleDep) -> HTMLResponse:
    with logged_in_client(console.settings) as client:
        items = plan(local_executor(console.settings, client))
        rows = [
            {
                "item": item,
                "state": execution_state(item),
                "refusal": item.refusal(),
                "hashes": execution_hashes(client, item),
                "policy": policy_clauses(item.pending.policy, item.pending.runs),
                "runnable": should_run(item, force=False),
                "job": console.runs.job(item.key),
            }
            for item in items
        ]
    results = sorted(console.workspace.results(), key=lambda r: r.executed_at, reverse=True)
    return render(request, "pending.html", {"rows": rows, "results": results})


@router.post("/runs")
async def start_run(request: Request, console: ConsoleDep) -> Response:
    form = await checked_form(request, console)
    job = console.runs.start(form.get("key", ""))
    return RedirectResponse(f"/runs/{job.key}", status_code=303)


@router.get("/runs/{key}")
def run_page(request: Request, console: ConsoleDep, key: str) -> HTMLResponse:
    job = console.runs.job(check_result_key(key))
    if job is None:
        raise NotFound(f"no run of execution {key} was started from this console")
    running = job.status is RunStatus.RUNNING
    has_result = console.workspace.result(key) is not None
    return render(
        request,
        "run.html",
        {"job": job, "lines": list(job.lines), "running": running, "has_result": has_result},
    )


@router.get("/results/{key}")
def result_page(request: Request, console: ConsoleDep, key: str) -> HTMLResponse:
    result = console.workspace.result(key)
    if result is None:
        raise NotFound(f"no local result {key!r}; run the execution first")
    payload = upload_payload(result, upload_signer(console.settings))
    shown = json.dumps(payload.model_dump(mode="json"), indent=2, ensure_ascii=False)
    return render(request, "result.html", {"result": result, "payload": shown})


@router.post("/results/{key}/upload")
async def upload(request: Request, console: ConsoleDep, key: str) -> Response:
    await checked_form(request, console)
    result = local_result_to_upload(console.workspace, key)
    signer = upload_signer(console.settings)
    with logged_in_client(console.settings) as client:
        upload_reviewed(
            client, console.workspace, local_audit_log(console.settings), result, signer
        )
    return RedirectResponse(f"/results/{result.key}", status_code=303)


@router.get("/audit")
def audit(request: Request, console: ConsoleDep) -> HTMLResponse:
    entries = list(reversed(local_audit_log(console.settings).entries()))
    return render(request, "audit.html", {"entries": entries})
