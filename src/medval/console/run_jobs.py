"""Runs started from the console: one at a time, each in a background thread, through
the same use case as ``medval run`` (``medval.client.runs.run_executions``), its
progress kept as log lines for the run page to show.

Imports: the client's use cases and the core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from medval.client.local_session import local_executor, logged_in_client
from medval.client.run_quotas import within_daily_quota
from medval.client.runs import PlannedExecution, RunOutcome, plan, run_executions, should_run
from medval.client.settings import ClientSettings
from medval.client.workspace import LocalResult, check_result_key
from medval.core.errors import Conflict, MedvalError, NotFound


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class RunJob:
    """One execution run from the console: its status, its log, and, when it failed,
    the use case's one-line reason."""

    key: str
    status: RunStatus = RunStatus.RUNNING
    lines: list[str] = field(default_factory=list)
    error: str | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)


class JobLog:
    """Hears the executor's steps (``Progress``) and the run's turns (``RunListener``)
    and writes them to the job's log, as the CLI writes them to the terminal."""

    def __init__(self, job: RunJob) -> None:
        self.job = job

    def step(self, message: str) -> None:
        self.job.say(f"→ {message} …")

    def done(self, message: str, seconds: float) -> None:
        self.job.say(f"✓ {message} ({seconds:.1f} s)")

    def starting(self, number: int, total: int, item: PlannedExecution) -> None:
        self.job.say(f"[{number}/{total}] {item.pending.model} on {item.pending.dataset}")

    def succeeded(self, item: PlannedExecution, result: LocalResult) -> None:
        self.job.say(f"✓ {item.key}: result kept here, not uploaded; review it to upload")

    def failed(self, item: PlannedExecution, message: str, recorded: str | None) -> None:
        self.job.say(f"✗ {message}")
        if recorded is not None:
            self.job.say(f"kept as a failed execution ({item.key}), to upload after review")


# What runs a job: the real one plans and runs through the client; tests may pass another.
Runner = Callable[[RunJob], RunOutcome]


class RunJobs:
    """The console's runs, by execution key; at most one running at a time."""

    def __init__(self, settings: ClientSettings, runner: Runner | None = None) -> None:
        self.settings = settings
        self._runner = runner or self._run_pending
        self._jobs: dict[str, RunJob] = {}
        self._running: RunJob | None = None
        self._lock = threading.Lock()

    def start(self, key: str) -> RunJob:
        """Start running execution ``key`` in the background (``Conflict`` while another
        run is going on)."""
        check_result_key(key)
        with self._lock:
            busy = self._running
            if busy is not None and busy.status is RunStatus.RUNNING:
                raise Conflict(
                    f"execution {busy.key} is running; wait until it finishes, "
                    "then start the next one"
                )
            job = self._running = self._jobs[key] = RunJob(key)
        threading.Thread(target=self._work, args=(job,), daemon=True).start()
        return job

    def job(self, key: str) -> RunJob | None:
        return self._jobs.get(key)

    def _work(self, job: RunJob) -> None:
        try:
            outcome = self._runner(job)
        except MedvalError as exc:
            job.say(f"✗ {exc.message}")
            job.error, job.status = exc.message, RunStatus.FAILED
        except Exception as exc:  # the page shows one line, never a traceback
            job.error = f"internal error: {exc.__class__.__name__}: {exc}"
            job.status = RunStatus.FAILED
        else:
            if outcome.failures:
                job.error, job.status = outcome.failures[0].message, RunStatus.FAILED
            else:
                job.status = RunStatus.SUCCEEDED

    def _run_pending(self, job: RunJob) -> RunOutcome:
        """What ``medval run --model M --benchmark B --yes`` does for one execution."""
        log = JobLog(job)
        with logged_in_client(self.settings) as client:
            executor = local_executor(self.settings, client, log)
            found = [item for item in plan(executor) if item.key == job.key]
            if not found:
                raise NotFound(f"execution {job.key} is not waiting for your datasets")
            if not should_run(found[0], force=False):
                raise Conflict(
                    f"execution {job.key} already has a local result or a recorded failure "
                    "(or its dataset is not in this workspace); nothing was run"
                )
            # As medval run: nothing beyond the phase's daily quota of uploads.
            quota = within_daily_quota(found)
            if not quota.todo:
                raise Conflict(quota.notes[0] + "; nothing was run")
            return run_executions(executor, found, log)
