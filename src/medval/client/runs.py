"""Executing approved models on the data owner's datasets, and the upload payload.

An execution the dataset's policy refuses (``medval.trust.data_policy``: a model owner
off the allowlist, a model that ran the limit, an expired association) does not run: it
fails at once with the clause's line and records nothing.

A run may run several executions at once (``jobs``; ``client.side_by_side``): each keeps
its own result and failure, as it would one at a time.

A run is resumable: an execution whose local result exists is not run again (unless
forced), so an interrupted ``medval run`` picks up where it stopped.

A model that fails here is a result too: when the cube ran and medval judged how it
ended (a task failed, timed out, hit a limit, or the evaluator wrote no readable
results document), a failed result is kept with medval's one-line verdict, never the
cube's own output, and uploaded like any other after review. What is not the model's
doing (a hash that does not match, a container engine that cannot start a container,
a server that cannot be reached) records nothing and is raised as it is.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from medval.client.audit_log import record
from medval.client.data_policies import policy_refusal
from medval.client.datasets import prepared_folders, verify_prepared
from medval.client.execution import DocumentRefused, Executor
from medval.client.run_quotas import in_priority_order
from medval.client.side_by_side import TaggedProgress, run_each
from medval.client.workspace import LocalDataset, LocalResult, result_key
from medval.core.documents import Provenance
from medval.core.errors import (
    EngineError,
    HashMismatch,
    InvalidInput,
    MedvalError,
    NotFound,
    PolicyRefused,
    SandboxError,
)
from medval.core.result_schemas import PendingExecution, ResultContent, ResultCreate
from medval.core.states import ExecutionStatus, check_valid
from medval.trust.keys import SigningKey
from medval.trust.signed_result import sign_result

MAX_REASON = 500  # the server's limit on a failure's reason (core.schemas.FailureReason)


@dataclass(frozen=True)
class PlannedExecution:
    pending: PendingExecution
    dataset: LocalDataset | None  # None: registered from another machine or workspace
    done: LocalResult | None  # a local result from an earlier run

    @property
    def key(self) -> str:
        p = self.pending
        return result_key(p.benchmark_id, p.model_id, p.dataset_id)

    def refusal(self, today: date | None = None) -> str | None:
        """The clause of the dataset's policy that refuses this execution, if any."""
        return policy_refusal(self.pending, today or datetime.now(UTC).date())


def plan(
    executor: Executor, benchmark_id: int | None = None, model_ids: set[int] | None = None
) -> list[PlannedExecution]:
    """What the server says is waiting for this account, matched with local state
    (only one benchmark's, or only some models', when given), in the order it runs: each
    benchmark's models in its committee's priority order first (``client.run_quotas``)."""
    workspace = executor.workspace
    planned = []
    for pending in executor.client.pending_executions():
        if benchmark_id is not None and pending.benchmark_id != benchmark_id:
            continue
        if model_ids is not None and pending.model_id not in model_ids:
            continue
        key = result_key(pending.benchmark_id, pending.model_id, pending.dataset_id)
        local = workspace.result(key)
        # Sent, and pending again without a failure: the server's result is of an earlier
        # phase (core.phases), and this phase runs it anew.
        if local is not None and local.uploaded_at is not None and not pending.failed:
            local = None
        planned.append(
            PlannedExecution(
                pending=pending,
                dataset=workspace.dataset_by_server_id(pending.dataset_id),
                done=local,
            )
        )
    return in_priority_order(planned)


def refuse_invalid_models(
    executor: Executor, model_ids: set[int] | None, planned: list[PlannedExecution]
) -> None:
    """A model asked for by id that has nothing pending because it was invalidated is
    refused in one line, not silently skipped."""
    waiting = {item.pending.model_id for item in planned}
    for model_id in sorted((model_ids or set()) - waiting):
        model = executor.client.cube(model_id)
        check_valid(f"model {model.name} ({model.id})", model)


@dataclass(frozen=True)
class Execution:
    """What running one planned execution gave: its local result, and for a failed one
    the error in full (for the console; the result keeps only the verdict)."""

    result: LocalResult
    error: MedvalError | None = None


def failure_verdict(error: MedvalError) -> str | None:
    """The one-line reason a failed execution records, or None when ``error`` is not the
    model's failure (nothing is recorded then)."""
    if isinstance(error, EngineError):
        return None
    if isinstance(error, SandboxError | DocumentRefused):
        return error.verdict
    return None


def execute(executor: Executor, item: PlannedExecution) -> Execution:
    """infer then evaluate in the sandbox, after checking every hash; keeps the result
    (succeeded or failed) local."""
    if item.dataset is None:
        raise NotFound(
            f"dataset {item.pending.dataset} was not prepared in this workspace "
            f"({executor.workspace.home})"
        )
    # The data owner's own terms first: nothing is hashed or run that they refuse.
    refused = item.refusal()
    if refused is not None:
        raise PolicyRefused(refused)
    client = executor.client
    pending, dataset = item.pending, item.dataset
    benchmark = client.benchmark(pending.benchmark_id)
    check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
    executor.require_supported_by(benchmark)
    model = client.cube(pending.model_id)
    if model.archive_hash != pending.model_hash:
        raise HashMismatch(f"model {model.name}'s registered hash changed; refusing to run it")
    preparator = client.cube(benchmark.data_preparator_id)
    evaluator = client.cube(pending.evaluator_id or benchmark.evaluator_id)  # its phase's
    if preparator.archive_hash != dataset.data_preparator_hash:
        raise HashMismatch(
            f"dataset {dataset.name} was prepared with another preparation cube than "
            f"benchmark {benchmark.name} uses; prepare it again"
        )
    verify_prepared(executor, dataset)  # hashed at the run's first execution on it
    data, labels = prepared_folders(executor, dataset)
    result = LocalResult(
        benchmark_id=pending.benchmark_id,
        dataset_id=pending.dataset_id,
        dataset=dataset.name,
        model_id=model.id,
        model=model.name,
        provenance=Provenance(
            dataset_hash=dataset.data_hash,
            data_preparator_hash=preparator.archive_hash,
            model_hash=model.archive_hash,
            evaluator_hash=evaluator.archive_hash,
            data_preparator_image=preparator.image_digest,
            model_image=model.image_digest,
            evaluator_image=evaluator.image_digest,
        ),
        executed_at=datetime.now(UTC),
    )
    error: MedvalError | None = None
    workspace = executor.workspace
    try:
        # Created owner-only before the model writes its per-case predictions in it.
        folder = workspace.result_folder(item.key)
        read = executor.evaluate_model(
            model,
            evaluator,
            data,
            labels,
            folder,
            benchmark_k=benchmark.min_cell_count,
            declared=benchmark.metrics,
        )
        result = result.model_copy(update={"document": read.document, "left_out": read.left_out})
    except MedvalError as exc:
        verdict = failure_verdict(exc)
        if verdict is None:
            raise
        error = exc
        result = result.model_copy(
            update={"status": ExecutionStatus.FAILED, "failure": verdict[:MAX_REASON]}
        )
    finally:
        workspace.make_result_private(item.key)  # whatever the cube's umask was
    result = result.model_copy(update={"executed_at": datetime.now(UTC)})
    executor.workspace.save_result(result)
    return Execution(result, error)


def upload_payload(result: LocalResult, key: SigningKey) -> ResultCreate:
    """Exactly what an upload sends: aggregate metrics with intervals (or, for a failed
    execution, its one-line reason), when it ran, and the hashes (never what of the
    results file was left out), signed by the data owner's ``key``."""
    content = ResultContent(
        benchmark_id=result.benchmark_id,
        dataset_id=result.dataset_id,
        model_id=result.model_id,
        status=result.status,
        document=result.document,
        failure=result.failure,
        provenance=result.provenance,
        executed_at=result.executed_at,
    )
    return sign_result(content, key)


@dataclass(frozen=True)
class RunFailure:
    """One execution that did not give metrics: its key, the whole message (for the
    console) and the error's code (the run ends with that kind when all share it)."""

    key: str
    message: str
    code: str


@dataclass(frozen=True)
class RunOutcome:
    ran: int
    total: int
    failures: tuple[RunFailure, ...]


class RunListener(Protocol):
    """Where ``run_executions`` says what happens (the CLI prints; tests collect)."""

    def starting(self, number: int, total: int, item: PlannedExecution) -> None: ...

    def succeeded(self, item: PlannedExecution, result: LocalResult) -> None: ...

    def failed(self, item: PlannedExecution, message: str, recorded: str | None) -> None: ...


def should_run(item: PlannedExecution, force: bool) -> bool:
    """Not done here yet, and no failure recorded on the server (those: with ``force``)."""
    if item.dataset is None:
        return False
    return force or (item.done is None and not item.pending.failed)


def check_jobs(jobs: int) -> None:
    """How many executions run at once: one at least."""
    if jobs < 1:
        raise InvalidInput(f"--jobs is how many executions run at once: at least 1, not {jobs}")


def run_executions(
    executor: Executor,
    todo: list[PlannedExecution],
    listener: RunListener,
    fail_fast: bool = False,
    jobs: int = 1,
) -> RunOutcome:
    """Run the planned executions, up to ``jobs`` at once (``client.side_by_side``), going
    on after a failure (unless ``fail_fast``: then none starts after it); a failure the
    model caused is kept as a failed result (``recorded`` is its one-line reason), any
    other is only reported. Numbers go to the executions in the order they start; the
    failures come in the order of ``todo``, whatever order they ended in.

    Called once the data owner approved ``todo``: the local audit log gets the approval
    of each execution (what was to run) and, when it ran, its result."""
    check_jobs(jobs)
    side_by_side = min(jobs, len(todo)) > 1
    voice = threading.Lock()
    heard = _OneAtATime(listener, voice) if side_by_side else listener
    numbers = itertools.count(1)
    failures: dict[int, RunFailure] = {}

    def work(index: int) -> None:
        item = todo[index]
        with voice:
            number = next(numbers)
            listener.starting(number, len(todo), item)
        view = executor
        if side_by_side:
            tag = f"[{number}/{len(todo)}]"
            view = executor.reporting_to(TaggedProgress(executor.progress, tag, voice))
        failure = _run_one(view, item, heard)
        if failure is not None:
            failures[index] = failure

    ran = run_each(len(todo), jobs, work, go_on=lambda: not (fail_fast and failures))
    return RunOutcome(ran, len(todo), tuple(failures[i] for i in sorted(failures)))


def _run_one(
    executor: Executor, item: PlannedExecution, listener: RunListener
) -> RunFailure | None:
    """One approved execution, recorded in the audit log; its failure, if it failed."""
    record(executor.audit, "approve", "execution", item.key, item.pending)
    try:
        done = execute(executor, item)
    except MedvalError as exc:
        listener.failed(item, exc.message, None)
        return RunFailure(item.key, exc.message, exc.code)
    record(executor.audit, done.result.status.value, "execution", item.key, done.result)
    if done.error is None and done.result.document is not None:
        listener.succeeded(item, done.result)
        return None
    message = done.error.message if done.error else str(done.result.failure)
    code = done.error.code if done.error else SandboxError.code
    listener.failed(item, message, done.result.failure)
    return RunFailure(item.key, message, code)


class _OneAtATime:
    """The run's listener, heard by one execution at a time (under ``voice``)."""

    def __init__(self, listener: RunListener, voice: threading.Lock) -> None:
        self.listener = listener
        self.voice = voice

    def starting(self, number: int, total: int, item: PlannedExecution) -> None:
        with self.voice:
            self.listener.starting(number, total, item)

    def succeeded(self, item: PlannedExecution, result: LocalResult) -> None:
        with self.voice:
            self.listener.succeeded(item, result)

    def failed(self, item: PlannedExecution, message: str, recorded: str | None) -> None:
        with self.voice:
            self.listener.failed(item, message, recorded)
