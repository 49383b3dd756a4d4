"""``medval dataset case retry|exclude``: the data owner's decision on a case that a
preparation workflow set aside (``client.case_decisions``, in the local audit log)."""

from __future__ import annotations

import typer

from medval.cli.context import Session
from medval.client.case_decisions import exclude as exclude_case
from medval.client.case_decisions import retry as retry_case

case_app = typer.Typer(
    help="Decide on a case a preparation workflow set aside (data owners).",
    no_args_is_help=True,
)


@case_app.command("retry")
def retry(ctx: typer.Context, name: str, case: str) -> None:
    """Run the case's failed step again when the dataset is next prepared."""
    session: Session = ctx.obj
    retry_case(session.workspace, session.audit_log(), name, case)
    session.err.print(f"case {case} of {name} is retried at the next dataset prepare")


@case_app.command("exclude")
def exclude(ctx: typer.Context, name: str, case: str) -> None:
    """Leave the case out of the prepared data (counted among the exclusions)."""
    session: Session = ctx.obj
    exclude_case(session.workspace, session.audit_log(), name, case)
    session.err.print(f"case {case} of {name} is excluded from the next dataset prepare on")
