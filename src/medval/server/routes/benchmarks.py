from __future__ import annotations

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import (
    BenchmarkCreate,
    BenchmarkPublic,
    Decision,
    LeaderboardPublic,
    StageChange,
)
from medval.server.dependencies import ContextDep, CurrentUser, OptionalUser
from medval.server.services import benchmarks
from medval.server.services.leaderboard import leaderboard

router = APIRouter(tags=["benchmarks"])


@router.post(api.BENCHMARKS, status_code=201)
def register_benchmark(
    ctx: ContextDep, user: CurrentUser, body: BenchmarkCreate
) -> BenchmarkPublic:
    return BenchmarkPublic.model_validate(benchmarks.register_benchmark(ctx, user, body))


@router.get(api.BENCHMARKS)
def list_benchmarks(ctx: ContextDep, user: OptionalUser) -> list[BenchmarkPublic]:
    """Anonymous callers see the approved public benchmarks."""
    return [BenchmarkPublic.model_validate(b) for b in benchmarks.list_benchmarks(ctx, user)]


@router.get(api.BENCHMARK)
def get_benchmark(ctx: ContextDep, user: CurrentUser, benchmark_id: int) -> BenchmarkPublic:
    return BenchmarkPublic.model_validate(benchmarks.get_benchmark(ctx, user, benchmark_id))


@router.put(api.BENCHMARK_STAGE)
def change_stage(
    ctx: ContextDep, user: CurrentUser, benchmark_id: int, body: StageChange
) -> BenchmarkPublic:
    record = benchmarks.change_benchmark_stage(ctx, user, benchmark_id, body.stage)
    return BenchmarkPublic.model_validate(record)


@router.put(api.BENCHMARK_APPROVAL)
def decide(
    ctx: ContextDep, user: CurrentUser, benchmark_id: int, body: Decision
) -> BenchmarkPublic:
    record = benchmarks.decide_benchmark(ctx, user, benchmark_id, body.status)
    return BenchmarkPublic.model_validate(record)


@router.get(api.LEADERBOARD)
def get_leaderboard(ctx: ContextDep, user: OptionalUser, benchmark_id: int) -> LeaderboardPublic:
    """Anonymous callers may read a public benchmark's leaderboard."""
    return LeaderboardPublic.model_validate(leaderboard(ctx, user, benchmark_id))
