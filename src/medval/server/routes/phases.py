"""A benchmark's phases and the publication of held results (issue 19): thin routes over
``services.phases`` and ``services.publication``."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.phases import PhaseCreate, PhasePublic, PublicationDecision
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
def list_phases(ctx: ContextDep, user: OptionalUser, benchmark_id: Id) -> Sequence[PhasePublic]:
    """Whoever may see the benchmark, in the order they open."""
    return phases.list_phases(ctx, user, benchmark_id)


@router.get(api.BENCHMARK_PHASE, responses=errors(404))
def get_phase(ctx: ContextDep, user: OptionalUser, benchmark_id: Id, name: str) -> PhasePublic:
    return phases.get_phase(ctx, user, benchmark_id, name)


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
