"""Publication (issue 19): the committee publishes or withholds each result of a phase
whose results are held (``core.phases.PublicationMode.HELD``).

Held, a result is seen only by the committee and the site that sent it
(``services.release``). Published, the release policy applies to it as to any result;
withheld, it stays off every board, and its model's owner sees it with the reason. Only
the committee of the result's benchmark (its owner; an admin too) decides, and only on a
held result (or again, on one it decided: a mistake can be undone). Every decision is in
the audit log (``result.publish``, ``result.withhold``).
"""

from __future__ import annotations

from medval.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from medval.core.phases import ResultPublication
from medval.server.services.context import ServiceContext
from medval.server.services.permissions import not_found
from medval.server.services.release import can_see_result, site_count
from medval.server.store.records import ResultRecord, UserRecord


def publish_result(ctx: ServiceContext, caller: UserRecord, result_id: int) -> ResultRecord:
    return _decide(ctx, caller, result_id, ResultPublication.PUBLISHED, None)


def withhold_result(
    ctx: ServiceContext, caller: UserRecord, result_id: int, reason: str | None
) -> ResultRecord:
    if not reason:
        raise InvalidInput(
            "withholding a result needs a reason (--reason): its model's owner sees it"
        )
    return _decide(ctx, caller, result_id, ResultPublication.WITHHELD, reason)


def _decide(
    ctx: ServiceContext,
    caller: UserRecord,
    result_id: int,
    publication: ResultPublication,
    reason: str | None,
) -> ResultRecord:
    with ctx.transaction(caller) as tx:
        result = tx.result(result_id)
        benchmark = tx.benchmark(result.benchmark_id) if result is not None else None
        if result is None or benchmark is None:
            raise not_found("result", result_id)
        if not (caller.is_admin or caller.id == benchmark.owner_id):
            # Who may see it learns why; anyone else, only that there is no such result.
            sites = site_count(tx, benchmark.id, result.model_id, result.phase_id)
            if can_see_result(caller, result, benchmark, sites):
                raise PermissionDenied(
                    f"only the committee of benchmark {benchmark.name} (its owner) may "
                    f"publish or withhold result {result_id}"
                )
            raise not_found("result", result_id)
        if result.publication is ResultPublication.AUTOMATIC:
            raise InvalidTransition(
                f"result {result_id} is in phase {result.phase} of benchmark {benchmark.name}, "
                "whose results are released by its release policy, not held for the committee"
            )
        if result.publication is publication and result.publication_reason == reason:
            raise InvalidTransition(f"result {result_id} is {publication.value} already")
        phase = tx.phase(result.phase_id) if result.phase_id is not None else None
        if phase is not None and phase.closed_at is not None:
            raise InvalidTransition(
                f"phase {phase.name} of benchmark {benchmark.name} is closed: its results "
                "and its archived leaderboard are frozen"
            )
        return tx.set_result_publication(result_id, publication, reason)
