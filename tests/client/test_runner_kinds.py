"""The data owner's client runs a benchmark's cubes only on a runner kind it supports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput
from medval.core.schemas import BenchmarkPublic
from medval.core.states import ApprovalStatus, ReleasePolicy, RunnerKind, Stage
from medval.runner import RUNNER_KINDS, BubblewrapRunner, DockerRunner, Limits, Runner


def _benchmark(runners: list[RunnerKind]) -> BenchmarkPublic:
    return BenchmarkPublic(
        id=1,
        name="breast",
        description="",
        docs_url="",
        owner_id=1,
        owner="committee",
        data_preparator_id=1,
        reference_model_id=2,
        evaluator_id=3,
        demo_data_hash="a" * 64,
        release_policy=ReleasePolicy.PARTICIPANTS,
        approval=ApprovalStatus.APPROVED,
        stage=Stage.OPERATION,
        created_at=datetime.now(UTC),
        runners=runners,
    )


def _executor(runner: Runner, home: Path) -> Executor:
    # Never reached: the check happens before anything is asked of the server.
    return Executor(MedvalClient("http://127.0.0.1:9"), Workspace(home), runner, Limits())


def test_a_benchmark_refuses_a_runner_kind_it_does_not_support(tmp_path: Path) -> None:
    executor = _executor(BubblewrapRunner(), tmp_path)
    with pytest.raises(InvalidInput) as refused:
        executor.require_supported_by(_benchmark([RunnerKind.DOCKER, RunnerKind.PODMAN]))
    assert refused.value.message == (
        "benchmark breast supports the runners docker, podman, not local: "
        "choose one with --runner or MEDVAL_RUNNER"
    )


def test_a_supported_runner_kind_passes(tmp_path: Path) -> None:
    _executor(DockerRunner(), tmp_path).require_supported_by(_benchmark([RunnerKind.DOCKER]))
    _executor(BubblewrapRunner(), tmp_path).require_supported_by(_benchmark(list(RunnerKind)))


def test_the_kinds_a_benchmark_can_name_are_the_runners_there_are() -> None:
    assert set(RUNNER_KINDS) == {kind.value for kind in RunnerKind}


class _RunnerWithCaveat(BubblewrapRunner):
    def caveats(self, limits: Limits) -> list[str]:
        return [f"no cgroup here: {limits.describe_memory()} per process"]


class _Steps:
    def __init__(self) -> None:
        self.said: list[str] = []

    def step(self, message: str) -> None:
        self.said.append(message)

    def done(self, message: str, seconds: float) -> None:
        return None


def test_limits_a_runner_cannot_hold_are_said_once_before_any_task(tmp_path: Path) -> None:
    steps = _Steps()
    executor = Executor(
        MedvalClient("http://127.0.0.1:9"),
        Workspace(tmp_path),
        _RunnerWithCaveat(),
        Limits(memory_bytes=512 << 20),
        steps,
    )
    executor.say_caveats()
    executor.say_caveats()
    assert steps.said == ["note: no cgroup here: 512 MiB per process"]
