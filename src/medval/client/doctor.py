"""``medval doctor``: check the machine a data owner is about to use, before a first run.

One row per check (:class:`~medval.client.machine_checks.results.CheckResult`): the
configured runner first, then the other runners, the workspace, the server and Python.
The rule for the exit code: a problem of what a task needs here (the configured runner,
the workspace, the Python) is a ``fail`` and makes the diagnosis not ready; a problem of
anything else (another runner, the server, the clock, a folder others can read, little
free space) is a ``warn``, shown with its fix.

Imports: the client's settings and machine checks, ``medval.runner``, ``medval.core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medval.client.machine_checks.python import python_row
from medval.client.machine_checks.results import CheckResult, CheckState, Machine, problem
from medval.client.machine_checks.runners import runner_rows
from medval.client.machine_checks.server import server_rows
from medval.client.machine_checks.workspace import workspace_rows
from medval.client.settings import ClientSettings
from medval.runner.interface import MIB, Limits, Runner
from medval.runner.registry import RUNNER_KINDS, runner_for


@dataclass(frozen=True)
class Diagnosis:
    """Every check's result, and the runner they were judged for."""

    runner: str
    results: Sequence[CheckResult]

    @property
    def failed(self) -> list[CheckResult]:
        return [result for result in self.results if result.state is CheckState.FAIL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [result for result in self.results if result.state is CheckState.WARN]

    @property
    def ready(self) -> bool:
        """The configured runner can run a task here with all its limits."""
        return not self.failed

    def verdict(self) -> str:
        """One line: ready or not, and why not."""
        if self.ready:
            warned = len(self.warnings)
            tail = f" ({warned} warning{'s' if warned != 1 else ''} above)" if warned else ""
            return f"ready: runner {self.runner} can run a task here with all its limits{tail}"
        names = ", ".join(result.check for result in self.failed)
        return (
            f"runner {self.runner} cannot run a task here with all its limits; "
            f"fix the failed checks above: {names}"
        )


def task_limits(settings: ClientSettings) -> Limits:
    """The limits every task runs with, from the settings (as the executor takes them)."""
    return Limits(
        timeout_seconds=settings.task_timeout_seconds,
        memory_bytes=settings.task_memory_mb * MIB,
        max_processes=settings.task_max_processes,
        output_bytes=settings.task_output_mb * MIB,
    )


def examine(settings: ClientSettings, machine: Machine | None = None) -> Diagnosis:
    """Check this machine (or ``machine``) for ``settings``; nothing is sent anywhere but
    the server's health check, and nothing is left behind but the workspace folder."""
    machine = machine or Machine()
    rows: list[CheckResult] = []
    kind = settings.runner
    if kind not in RUNNER_KINDS:
        choices = ", ".join(sorted(RUNNER_KINDS))
        rows.append(
            problem("runner", f"unknown runner {kind!r}", f"set MEDVAL_RUNNER to {choices}", True)
        )
    runners: dict[str, Runner] = dict(
        machine.runners or {name: runner_for(name) for name in RUNNER_KINDS}
    )
    rows += runner_rows(runners, kind, task_limits(settings), machine)
    rows += workspace_rows(settings.home, machine)
    rows += server_rows(settings, machine)
    rows.append(python_row(machine))
    return Diagnosis(kind, rows)
