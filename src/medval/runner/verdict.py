"""Read how a sandboxed task ended and say it in one line.

Each failure is said twice: the message, for the person at the console, may quote the
cube's last error line or a path; the ``verdict`` says the same in medval's own words
only (the task, the cube's registered name, the limit or exit status), because that is
what a failed execution records and sends once the data owner approves it.
"""

from __future__ import annotations

import signal
from pathlib import Path

from medval.core.errors import SandboxError
from medval.runner.cgroups import TaskGroup
from medval.runner.interface import Limits, TaskFailed, TaskRun
from medval.runner.invocation import TaskInvocation
from medval.runner.supervisor import ProcessOutcome

# What a process that hit its memory limit prints: Python, numpy, C, C++, PyTorch.
_MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "Unable to allocate",
)
# Exit statuses of a process killed by SIGKILL: -9 from Popen, 137 as a sandbox reports it.
_KILLED = {-signal.SIGKILL, 128 + signal.SIGKILL}
# ... and of one killed for writing a file past RLIMIT_FSIZE (the output cap).
_FILE_TOO_LARGE = {-signal.SIGXFSZ, 128 + signal.SIGXFSZ}


def judge(
    invocation: TaskInvocation,
    outcome: ProcessOutcome,
    limits: Limits,
    log_path: Path | None,
) -> TaskRun:
    """A TaskRun for a clean exit; otherwise a SandboxError that says what happened."""
    label = invocation.label
    output_problem = _output_problem(outcome, limits)
    if output_problem is not None:
        message, verdict = output_problem
        raise TaskFailed(f"{label} {message}", outcome.log_tail, f"{label} {verdict}")
    if outcome.timed_out:
        timed_out = f"{label} timed out after {limits.timeout_seconds:g} s"
        raise SandboxError(timed_out, timed_out)
    if outcome.returncode == 0:
        return TaskRun(
            cube=invocation.cube,
            task=invocation.task,
            exit_code=0,
            duration_seconds=outcome.duration_seconds,
            log_tail=outcome.log_tail,
            log_path=log_path,
        )
    if ran_out_of_memory(outcome):
        memory = f"{label} ran out of memory (limit {limits.describe_memory()})"
        raise TaskFailed(memory, outcome.log_tail, memory)
    last = outcome.last_error_line.strip() or "(it printed no error)"
    failed = f"{label} failed with exit code {outcome.returncode}{_signal_note(outcome.returncode)}"
    raise TaskFailed(f"{failed}: {last}", outcome.log_tail, failed)


def _output_problem(outcome: ProcessOutcome, limits: Limits) -> tuple[str, str] | None:
    """What the task did wrong with its outputs, if anything (as the end of a sentence),
    and the same without the path (its verdict).

    Past the cap: killed for it while running, found above it at the end, or failed at the
    cap (a write refused by RLIMIT_FSIZE: SIGXFSZ, or "File too large" in a program that
    ignores the signal, as Python does, when the file reached the cap).
    """
    if outcome.unreadable_output is not None:
        unreadable = "made a folder in its outputs that cannot be read"
        return f"{unreadable}: {outcome.unreadable_output}", unreadable
    if outcome.output_bytes is None:
        return None
    written = outcome.output_bytes
    failed_at_cap = (
        outcome.returncode != 0
        and not outcome.timed_out
        and (outcome.returncode in _FILE_TOO_LARGE or written >= limits.output_bytes)
    )
    if outcome.output_exceeded or written > limits.output_bytes or failed_at_cap:
        too_much = (
            f"wrote more than {limits.describe_output()} to its outputs and log (its output limit)"
        )
        return too_much, too_much
    return None


def ran_out_of_memory(outcome: ProcessOutcome) -> bool:
    """A memory error in the last lines of stderr, or killed outright (the OOM killer)."""
    recent = outcome.error_tail[-20:]
    if any(marker in line for line in recent for marker in _MEMORY_MARKERS):
        return True
    return outcome.returncode in _KILLED


def _signal_note(returncode: int) -> str:
    """`` (SIGSEGV)`` for a process a signal ended: negative from Popen, 128+N from a shell."""
    number = -returncode if returncode < 0 else returncode - 128
    try:
        return f" ({signal.Signals(number).name})" if returncode < 0 or returncode > 128 else ""
    except ValueError:
        return ""


def judge_group(
    invocation: TaskInvocation, outcome: ProcessOutcome, limits: Limits, group: TaskGroup
) -> None:
    """A failed task whose control group saw it hit a limit: say which, in one line."""
    if outcome.returncode == 0 or outcome.cut_short:
        return
    if group.ran_out_of_memory():
        memory = f"{invocation.label} ran out of memory (limit {limits.describe_memory()})"
        raise TaskFailed(memory, outcome.log_tail, memory)
    if group.hit_process_limit():
        processes = f"{invocation.label} reached its limit of {limits.max_processes} processes"
        raise TaskFailed(processes, outcome.log_tail, processes)
