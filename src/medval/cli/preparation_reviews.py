"""``medval dataset review list|accept|replace|exclude``: the data owner's answers at a
preparation workflow's review steps (``client.case_decisions``); each is in the local
audit log, and ``medval dataset prepare`` then goes on with the rest."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import BaseModel

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.cli.render import columns
from medval.client.case_decisions import accept as accept_case
from medval.client.case_decisions import exclude_reviewed, waiting
from medval.client.case_decisions import replace as replace_file

review_app = typer.Typer(
    help="Look at and answer the cases a preparation workflow's review steps wait for.",
    no_args_is_help=True,
)


class ReviewFile(BaseModel):
    """A file to look at for a case waiting at a review step (none: the step lists no
    file for the case)."""

    step: str
    case: str
    file: str | None


RELPATH_HELP = (
    "The file to replace, under the case's output folder (its path in the review list "
    "after .../cases/CASE/data/, e.g. case-07/overlay.png)."
)
REVIEW_COLUMNS = columns(ReviewFile, "step", "case", "file")


@review_app.command("list")
def list_reviews(ctx: typer.Context, name: str, fmt: OutputFormat = FormatOption) -> None:
    """The cases waiting at each review step, one row per file to look at (its full path
    in the workspace)."""
    session: Session = ctx.obj
    rows = [
        ReviewFile(step=item.step, case=item.case, file=str(path) if path else None)
        for item in waiting(session.workspace, name)
        for path in (item.files or (None,))
    ]
    session.show(rows, fmt, REVIEW_COLUMNS, f"cases to review in {name}")


@review_app.command("accept")
def accept(ctx: typer.Context, name: str, step: str, case: str) -> None:
    """Accept what the step before the review wrote for the case, as it is now."""
    session: Session = ctx.obj
    accept_case(session.workspace, session.audit_log(), name, step, case)
    session.note(f"case {case} of {name} accepted at {step}; next: medval dataset prepare")


@review_app.command("replace")
def replace(
    ctx: typer.Context,
    name: str,
    step: str,
    case: str,
    relpath: str = typer.Argument(..., metavar="RELPATH", help=RELPATH_HELP),
    new_file: Path = typer.Argument(..., metavar="NEWFILE", help="The corrected file."),
) -> None:
    """Put a corrected file in place of one the step wrote for the case; the case then
    counts as accepted with the new content."""
    session: Session = ctx.obj
    audit = session.audit_log()
    digest = replace_file(session.workspace, audit, name, step, case, relpath, new_file)
    session.note(
        f"{relpath} of case {case} replaced (sha256 {digest[:12]}…) and accepted at {step}; "
        "next: medval dataset prepare"
    )


@review_app.command("exclude")
def exclude(ctx: typer.Context, name: str, step: str, case: str) -> None:
    """Leave the case out of the prepared data (counted among the exclusions)."""
    session: Session = ctx.obj
    exclude_reviewed(session.workspace, session.audit_log(), name, step, case)
    session.note(f"case {case} of {name} excluded at {step}; next: medval dataset prepare")
