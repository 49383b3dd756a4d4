"""Reading an ended process: success, failure, timeout and out-of-memory, in one line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from medval.core.errors import InvalidInput, SandboxError
from medval.runner import MIB, Limits, TaskFailed
from medval.runner.container import engine_refusal
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
    # What a failed execution records: medval's words only, never the cube's stderr.
    assert (
        error.value.verdict == "task 'infer' of cube 'model-a' failed with exit code 139 (SIGSEGV)"
    )


def test_every_verdict_leaves_out_what_the_cube_printed() -> None:
    secret = "ValueError: patient jane_roe_1961 has no age"
    outcomes = {
        _ended(1, secret): "failed with exit code 1",
        _ended(1, secret, "MemoryError"): "ran out of memory (limit 256 MiB)",
        _ended(-9, secret, timed_out=True): "timed out after 90 s",
    }
    for outcome, verdict in outcomes.items():
        with pytest.raises(SandboxError) as error:
            judge(INFER, outcome, LIMITS, None)
        assert error.value.verdict == f"task 'infer' of cube 'model-a' {verdict}"
        assert "jane_roe" not in error.value.verdict


def test_an_unreadable_output_folder_is_not_named_in_the_verdict() -> None:
    outcome = replace(_ended(1), unreadable_output="/work/out/jane_roe_1961")
    with pytest.raises(TaskFailed) as error:
        judge(INFER, outcome, LIMITS, None)
    assert str(error.value).endswith("cannot be read: /work/out/jane_roe_1961")
    assert error.value.verdict == (
        "task 'infer' of cube 'model-a' made a folder in its outputs that cannot be read"
    )


OCI_DOCKER = (
    "docker: Error response from daemon: failed to create task for container: failed to "
    "create shim task: OCI runtime create failed: runc create failed: unable to start "
    'container process: error during container init: error mounting "/x" to rootfs at "/": '
    "unknown.",
    "Run 'docker run --help' for more information",
)
OCI_PODMAN = ("Error: crun: mount `/x` to `/`: Invalid argument: OCI runtime error",)


@pytest.mark.parametrize(
    ("program", "returncode", "errors", "reason"),
    [
        ("docker", 125, ("docker: Error response from daemon: No such image: sha256:ab.",
                         "See 'docker run --help'."),
         "docker: Error response from daemon: No such image: sha256:ab."),
        ("docker", 127, OCI_DOCKER, OCI_DOCKER[0]),
        ("podman", 126, OCI_PODMAN, OCI_PODMAN[0]),
        ("podman", 125, ("Error: something", "went wrong"), "Error: something"),
        ("podman", 125, ("no prefix here",), "no prefix here"),
        ("podman", 125, (), "podman exited with status 125 and no message"),
    ],
)  # fmt: skip
def test_an_engine_refusal_keeps_its_whole_reason(
    program: str, returncode: int, errors: tuple[str, ...], reason: str
) -> None:
    assert engine_refusal(program, _ended(returncode, *errors)) == reason


@pytest.mark.parametrize(
    ("returncode", "errors"),
    [
        (127, ("/bin/sh: 1: predict: not found",)),  # the cube's program is missing
        (126, ("Error: permission denied",)),  # an engine's prefix, but no OCI runtime
        (1, OCI_PODMAN),  # an engine's words in a cube's failure are the cube's
        (0, ()),
    ],
)
def test_a_cube_that_ran_is_not_an_engine_refusal(returncode: int, errors: tuple[str, ...]) -> None:
    assert engine_refusal("podman", _ended(returncode, *errors)) is None


def test_a_task_cut_short_is_never_an_engine_refusal() -> None:
    assert engine_refusal("docker", _ended(125, "docker: x", timed_out=True)) is None


def test_limits_must_be_sensible() -> None:
    with pytest.raises(InvalidInput, match="timeout must be positive"):
        Limits(timeout_seconds=0)
    with pytest.raises(InvalidInput, match="at least 64 MiB"):
        Limits(memory_bytes=1024)
    assert Limits(memory_bytes=1536 * MIB).describe_memory() == "1536 MiB"
