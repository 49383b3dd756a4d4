"""A phase's quotas, the entry that counts and the committee's priorities (issue 19):
thin routes over ``services.quotas``."""

from __future__ import annotations

from fastapi import APIRouter

from medval.core import api
from medval.core.phases import PhasePublic
from medval.core.quotas import (
    CountingEntryChoice,
    CountingEntryPublic,
    ModelPriorities,
    QuotaChange,
)
from medval.core.schemas import Id
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import quotas

router = APIRouter(tags=["phases"], route_class=DocumentedRoute)


@router.put(api.PHASE_QUOTAS, responses=errors(403, 404, 409))
def set_quotas(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, name: str, body: QuotaChange
) -> PhasePublic:
    """The committee (the benchmark's owner) or an admin: both quotas (null: no limit)."""
    return quotas.set_quotas(ctx, user, benchmark_id, name, body)


@router.put(api.MODEL_PRIORITIES, responses=errors(403, 404, 409))
def set_priorities(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: ModelPriorities
) -> PhasePublic:
    """The committee or an admin: the phase's models, most important first."""
    return quotas.set_priorities(ctx, user, benchmark_id, body)


@router.put(api.COUNTING_ENTRY, responses=errors(403, 404, 409))
def choose_counting_entry(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: CountingEntryChoice
) -> CountingEntryPublic:
    """The model's owner: which of its entries counts on the phase's board."""
    return quotas.choose_counting_entry(ctx, user, benchmark_id, body)
