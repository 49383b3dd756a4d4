"""Reading an ended process: success, failure, timeout and out-of-memory, in one line."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from medval.core.errors import InvalidInput, SandboxError
from medval.runner import MIB, Limits, TaskFailed
from medval.runner.invocation import TaskInvocation
from medval.runner.supervisor import ProcessOutcome
from medval.runner.verdict import judge

INFER = TaskInvocation(
    cube="model-a",
    task="infer",
    cube_folder=Path("/cubes/model-a"),
    entrypoint=("python", "infer.py"),
    mounts=(),
    parameters_file=PurePosixPath("/cube/parameters.yaml"),
)
LIMITS = Limits(timeout_seconds=90, memory_bytes=256 * MIB)


def _ended(returncode: int, *errors: str, timed_out: bool = False) -> ProcessOutcome:
    return ProcessOutcome(
        returncode=returncode,
        duration_seconds=1.5,
        timed_out=timed_out,
        log_tail=("starting", *errors),
        error_tail=errors,
        last_error_line=next((e for e in reversed(errors) if e.strip()), ""),
    )


def test_exit_zero_is_a_task_run() -> None:
    run = judge(INFER, _ended(0), LIMITS, Path("/logs/infer.log"))
    assert (run.cube, run.task, run.exit_code, run.duration_seconds) == (
        "model-a",
        "infer",
        0,
        1.5,
    )
    assert run.log_tail == ("starting",) and run.log_path == Path("/logs/infer.log")


def test_timeout_wins_over_the_exit_status() -> None:
    with pytest.raises(SandboxError) as error:
        judge(INFER, _ended(-9, timed_out=True), LIMITS, None)
    assert str(error.value) == "task 'infer' of cube 'model-a' timed out after 90 s"


@pytest.mark.parametrize(
    "last_line",
    [
        "MemoryError",
        "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 8.00 GiB",
        "terminate called after throwing an instance of 'std::bad_alloc'",
        "OSError: [Errno 12] Cannot allocate memory",
    ],
)
def test_memory_errors_read_as_out_of_memory(last_line: str) -> None:
    with pytest.raises(TaskFailed) as error:
        judge(INFER, _ended(1, "Traceback (most recent call last):", last_line), LIMITS, None)
    assert str(error.value) == "task 'infer' of cube 'model-a' ran out of memory (limit 256 MiB)"


@pytest.mark.parametrize("killed", [-9, 137])
def test_killed_outright_reads_as_out_of_memory(killed: int) -> None:
    with pytest.raises(SandboxError, match="ran out of memory"):
        judge(INFER, _ended(killed), LIMITS, None)


def test_a_failure_without_error_output_says_so() -> None:
    with pytest.raises(TaskFailed) as error:
        judge(INFER, _ended(2, "  "), LIMITS, None)
    assert str(error.value) == (
        "task 'infer' of cube 'model-a' failed with exit code 2: (it printed no error)"
    )
    assert error.value.log_tail == ("starting", "  ")


def test_a_crash_names_its_signal() -> None:
    with pytest.raises(TaskFailed) as error:
        judge(INFER, _ended(139, "Fatal Python error: Segmentation fault"), LIMITS, None)
    assert str(error.value) == (
        "task 'infer' of cube 'model-a' failed with exit code 139 (SIGSEGV): "
        "Fatal Python error: Segmentation fault"
    )


def test_limits_must_be_sensible() -> None:
    with pytest.raises(InvalidInput, match="timeout must be positive"):
        Limits(timeout_seconds=0)
    with pytest.raises(InvalidInput, match="at least 64 MiB"):
        Limits(memory_bytes=1024)
    assert Limits(memory_bytes=1536 * MIB).describe_memory() == "1536 MiB"
