"""A benchmark's phases and the publication of held results (issue 19): thin routes over
``services.phases`` and ``services.publication``."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.phases import (
    PhaseCreate,
    PhaseDates,
    PhasePublic,
    PhaseShown,
    PublicationDecision,
)
from medval.core.result_schemas import ResultPublic
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep, CurrentUser, OptionalUser
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import phases, publication

router = APIRouter(tags=["phases"], route_class=DocumentedRoute)


@router.post(api.BENCHMARK_PHASES, status_code=201, responses=errors(403, 404, 409))
def add_phase(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: PhaseCreate
) -> PhasePublic:
    """The committee (the benchmark's owner) or an admin; its dates overlap no other phase."""
    return phases.add_phase(ctx, user, benchmark_id, body)


@router.get(api.BENCHMARK_PHASES, responses=errors(404))
def list_phases(ctx: ContextDep, user: OptionalUser, benchmark_id: Id) -> Sequence[PhaseShown]:
    """Whoever may see the benchmark, in the order they open, each with its state now
    (``ended``: past its end date, not closed by the committee, its board not archived)."""
    return phases.list_phases(ctx, user, benchmark_id)


@router.get(api.BENCHMARK_PHASE, responses=errors(404))
def get_phase(ctx: ContextDep, user: OptionalUser, benchmark_id: Id, name: str) -> PhaseShown:
    return phases.get_phase(ctx, user, benchmark_id, name)


@router.patch(api.BENCHMARK_PHASE, responses=errors(403, 404, 409))
def edit_phase(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, name: str, body: PhaseDates
) -> PhasePublic:
    """The committee or an admin: new dates (a date left out stays; closes_at null: no
    end), by the rules of a new phase's; not of a closed phase, nor past a result in it."""
    return phases.edit_phase(ctx, user, benchmark_id, name, body)


@router.post(api.BENCHMARK_PHASE_CLOSURE, responses=errors(403, 404, 409))
def close_phase(ctx: ContextDep, user: CurrentUser, benchmark_id: Id, name: str) -> PhasePublic:
    """For good: no new results; its leaderboard archived with its content hash."""
    return phases.close_phase(ctx, user, benchmark_id, name)


@router.post(api.RESULT_PUBLICATION, responses=errors(403, 404, 409))
def publish_result(ctx: ContextDep, user: CurrentUser, result_id: Id) -> ResultPublic:
    """A held result, by its benchmark's committee: released by the release policy."""
    return publication.publish_result(ctx, user, result_id)


@router.post(api.RESULT_WITHHOLDING, responses=errors(403, 404, 409))
def withhold_result(
    ctx: ContextDep, user: CurrentUser, result_id: Id, body: PublicationDecision
) -> ResultPublic:
    """A held result, by its benchmark's committee, with a reason its model's owner sees."""
    return publication.withhold_result(ctx, user, result_id, body.reason)
