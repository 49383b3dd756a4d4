from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import (
    BenchmarkCreate,
    BenchmarkPublic,
    Decision,
    Id,
    LeaderboardPublic,
    StageChange,
)
from medval.server.dependencies import ContextDep, CurrentUser, OptionalUser
from medval.server.services import benchmarks, invalidation
from medval.server.services.leaderboard import leaderboard

router = APIRouter(tags=["benchmarks"])


@router.post(api.BENCHMARKS, status_code=201)
def register_benchmark(
    ctx: ContextDep, user: CurrentUser, body: BenchmarkCreate
) -> BenchmarkPublic:
    return benchmarks.register_benchmark(ctx, user, body)


@router.get(api.BENCHMARKS)
def list_benchmarks(ctx: ContextDep, user: OptionalUser) -> Sequence[BenchmarkPublic]:
    """Anonymous callers see the approved public benchmarks."""
    return benchmarks.list_benchmarks(ctx, user)


@router.get(api.BENCHMARK)
def get_benchmark(ctx: ContextDep, user: CurrentUser, benchmark_id: Id) -> BenchmarkPublic:
    return benchmarks.get_benchmark(ctx, user, benchmark_id)


@router.put(api.BENCHMARK_STAGE)
def change_stage(
    ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: StageChange
) -> BenchmarkPublic:
    return benchmarks.change_benchmark_stage(ctx, user, benchmark_id, body.stage)


@router.put(api.BENCHMARK_APPROVAL)
def decide(ctx: ContextDep, user: CurrentUser, benchmark_id: Id, body: Decision) -> BenchmarkPublic:
    return benchmarks.decide_benchmark(ctx, user, benchmark_id, body.status)


@router.get(api.LEADERBOARD)
def get_leaderboard(ctx: ContextDep, user: OptionalUser, benchmark_id: Id) -> LeaderboardPublic:
    """Anonymous callers may read a public benchmark's leaderboard."""
    return leaderboard(ctx, user, benchmark_id)


@router.post(api.BENCHMARK_INVALIDATION)
def invalidate(ctx: ContextDep, user: CurrentUser, benchmark_id: Id) -> BenchmarkPublic:
    """For good: it stays in the record, but nothing new runs against it."""
    return invalidation.invalidate_benchmark(ctx, user, benchmark_id)
