"""``medval result publish|withhold``: the committee's decision on a held result of its
benchmark (issue 19; a phase whose results are held, ``medval benchmark phase add
--held``). Published, the release policy applies to it; withheld, its model's owner sees
it with the reason, and no board shows it."""

from __future__ import annotations

import typer

from medval.cli.context import Session, YesOption


def publish(ctx: typer.Context, result_id: int, yes: bool = YesOption) -> None:
    """Publish a held result of your benchmark: the release policy applies to it."""
    from medval.client.audit_log import record

    session: Session = ctx.obj
    with session.client() as client:
        session.confirm(f"Publish result {result_id}?", yes)
        result = client.phases.publish_result(result_id)
    record(session.audit_log(), "published", "result", str(result.id), result)
    session.err.print(f"result {result.id} ({result.model} on {result.dataset}) is published")


def withhold(
    ctx: typer.Context,
    result_id: int,
    reason: str = typer.Option(..., "--reason", help="Why; the model's owner sees it."),
    yes: bool = YesOption,
) -> None:
    """Withhold a held result of your benchmark, with a reason its model's owner sees."""
    from medval.client.audit_log import record

    session: Session = ctx.obj
    with session.client() as client:
        session.confirm(f"Withhold result {result_id}?", yes)
        result = client.phases.withhold_result(result_id, reason)
    record(session.audit_log(), "withheld", "result", str(result.id), result)
    session.err.print(f"result {result.id} ({result.model} on {result.dataset}) is withheld")
