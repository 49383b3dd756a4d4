from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.result_schemas import LeaderboardPublic
from medval.core.schemas import BenchmarkCreate, BenchmarkPublic, Decision, Id, StageChange
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic
from medval.server.dependencies import ContextDep, CurrentUser, OptionalUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import benchmarks, invalidation
from medval.server.services.leaderboard import leaderboard
from medval.server.services.shift import benchmark_shift
from medval.server.services.subgroups import benchmark_subgroups

router = APIRouter(tags=["benchmarks"], route_class=DocumentedRoute)


@router.post(api.BENCHMARKS, status_code=201, responses=errors(404, 409))
def register_benchmark(
    ctx: ContextDep, user: CurrentUser, body: BenchmarkCreate
) -> BenchmarkPublic:
    return benchmarks.register_benchmark(ctx, user, body)


@router.get(api.BENCHMARKS)
def list_benchmarks(
    ctx: ContextDep, user: OptionalUser, pager: PagerDep
) -> Sequence[BenchmarkPublic]:
    """Anonymous callers see the approved public benchmarks."""
    return pager.send(benchmarks.list_benchmarks(ctx, user, pager.page))


@router.get(api.BENCHMARK, responses=errors(404))
def get_benchmark(ctx: ContextDep, user: CurrentUser, benchmark_id: Id) -> BenchmarkPublic:
    return benchmarks.get_benchmark(ctx, user, benchmark_id)


@router.put(api.BENCHMARK_STAGE, responses=errors(403, 404, 409))
def change_stage(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: StageChange
) -> BenchmarkPublic:
    return benchmarks.change_benchmark_stage(ctx, user, benchmark_id, body.stage)


@router.put(api.BENCHMARK_APPROVAL, responses=errors(403, 404, 409))
def decide(ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: Decision) -> BenchmarkPublic:
    return benchmarks.decide_benchmark(ctx, user, benchmark_id, body.status)


@router.get(api.LEADERBOARD, responses=errors(403, 404))
def get_leaderboard(
    ctx: ContextDep,
    user: OptionalUser,
    benchmark_id: Id,
    sites: bool = False,
    phase: str | None = None,
) -> LeaderboardPublic:
    """Anonymous callers may read a public benchmark's leaderboard. ``sites=true``: each
    model's sites too, those released to the caller. ``phase``: that phase's board
    (default: the phase open now, else the last); a closed phase's is its archived board,
    with its content hash."""
    return leaderboard(ctx, user, benchmark_id, with_sites=sites, phase=phase)


@router.get(api.BENCHMARK_SHIFT, responses=errors(403, 404))
def get_shift(ctx: ContextDep, user: OptionalUser, benchmark_id: Id) -> BenchmarkShiftPublic:
    """Released as the leaderboard is; each site to whoever may see its figures. Built
    from the sites' preparation statistics, not from results: it has no phase."""
    return benchmark_shift(ctx, user, benchmark_id)


@router.get(api.BENCHMARK_SUBGROUPS, responses=errors(403, 404))
def get_subgroups(
    ctx: ContextDep, user: OptionalUser, benchmark_id: Id, phase: str | None = None
) -> BenchmarkSubgroupsPublic:
    """Released as the leaderboard is; a level pooled from ``min_sites`` sites or more.
    ``phase``: that phase's results (default: the phase open now, else the last)."""
    return benchmark_subgroups(ctx, user, benchmark_id, phase)


@router.post(api.BENCHMARK_INVALIDATION, responses=errors(403, 404, 409))
def invalidate(ctx: ContextDep, user: CurrentUser, benchmark_id: Id) -> BenchmarkPublic:
    """For good: it stays in the record, but nothing new runs against it."""
    return invalidation.invalidate_benchmark(ctx, user, benchmark_id)
