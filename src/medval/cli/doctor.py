"""``medval doctor``: check this machine before a first run; one row per check, one fix
per problem (the checks: :mod:`medval.client.doctor`)."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.client.doctor import examine
from medval.core.errors import SandboxError


class CheckRow(BaseModel):
    check: str
    state: str
    found: str
    fix: str | None


def doctor(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Check this machine: each runner (bubblewrap, seccomp, cgroup limits, Docker, Podman),
    the workspace, the server, the clock and Python; exit 8 if a task cannot run here
    with all its limits."""
    session: Session = ctx.obj
    diagnosis = examine(session.settings)
    rows = [
        CheckRow(check=row.check, state=row.state.value, found=row.found, fix=row.fix)
        for row in diagnosis.results
    ]
    session.show(rows, fmt, title=f"medval doctor (runner {diagnosis.runner})")
    if not diagnosis.ready:
        raise SandboxError(diagnosis.verdict())
    session.note(diagnosis.verdict())
