"""The console's review page: how far each dataset's preparation workflow got (per step,
as ``medval dataset status`` shows it), the cases it waits for at its review steps, their
images shown, and Accept or Exclude for each, through the same use cases as ``medval
dataset review`` (``client.case_decisions``, in the local audit log).

Images are served from the workspace only for the files of the cases listed (png, jpg:
``client.case_decisions.review_image``), and nothing else. Imports: the client's use cases,
the core, and this package's pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from medval.client.case_decisions import (
    IMAGE_SUFFIXES,
    CaseDecision,
    accept,
    datasets_preparing,
    exclude_reviewed,
    review_image,
    waiting,
)
from medval.client.datasets import preparation_folder
from medval.client.local_session import local_audit_log
from medval.client.preparation.progress_counts import workflow_counts
from medval.console.pages import ConsoleDep, checked_form, render
from medval.core.errors import InvalidInput

router = APIRouter(default_response_class=HTMLResponse)
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@router.get("/reviews")
def reviews(request: Request, console: ConsoleDep) -> HTMLResponse:
    workspace = console.workspace
    datasets = [
        {
            "name": name,
            "progress": workflow_counts(preparation_folder(workspace, name), name),
            "cases": [
                {
                    "item": item,
                    "files": [
                        (index, path, path.suffix.lower() in IMAGE_SUFFIXES)
                        for index, path in enumerate(item.files)
                    ],
                }
                for item in waiting(workspace, name)
            ],
        }
        for name in datasets_preparing(workspace)
    ]
    return render(request, "reviews.html", {"datasets": datasets})


@router.get("/reviews/file")
def review_file(console: ConsoleDep, dataset: str, step: str, case: str, n: int) -> FileResponse:
    found = review_image(console.workspace, dataset, step, case, n)
    return FileResponse(found, media_type=MEDIA_TYPES[found.suffix.lower()])


@router.post("/reviews")
async def answer(request: Request, console: ConsoleDep) -> Response:
    form = await checked_form(request, console)
    dataset, step, case = (form.get(name, "") for name in ("dataset", "step", "case"))
    audit = local_audit_log(console.settings)
    match form.get("decision"):
        case CaseDecision.ACCEPT:
            accept(console.workspace, audit, dataset, step, case)
        case CaseDecision.EXCLUDE:
            exclude_reviewed(console.workspace, audit, dataset, step, case)
        case other:
            raise InvalidInput(f"a review is answered by accept or exclude, not {other!r}")
    return RedirectResponse("/reviews", status_code=303)
