"""One run of a workflow over a dataset's raw data, resumed from what is on disk.

Steps run in the workflow's order; a per_case step runs its task for every case that is
ready (every step it comes after finished that case, and the data owner has not excluded
it), up to ``jobs`` side by side. A case is skipped when its step already finished from the
same input (its hash: the case's input, the labels, the task and the cube); a case whose
task failed is set aside with its one-line reason, the others go on. It runs again after a
``retry``, or by itself once its input changed. A whole step reads every case that is ready
and fails the run if its task fails, as the one ``prepare`` of a cube without a workflow
does. A review step stops what comes after it until each case it lists is accepted or
excluded (:mod:`.decisions`).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from medval.client.preparation.case_folders import (
    WORKFLOW_FOLDER,
    StepFolders,
    cases_of,
    link_entry,
    merge,
    put_in_place,
)
from medval.client.preparation.facts import left_out_fact, review_fact, review_hash, steps_fact
from medval.client.preparation.state import (
    CASES,
    LEFT_OUT,
    RAW_DATA,
    STEPS,
    WHOLE,
    CaseState,
    WorkflowState,
)
from medval.client.preparation.step_clock import StepClock
from medval.client.preparation.step_cubes import runner_for, step_identity
from medval.core.errors import Conflict, MedvalError
from medval.core.hashing import tree_hash
from medval.core.preparation_workflow import (
    PREPARE_TASK,
    StepCube,
    StepRuns,
    Workflow,
    WorkflowStep,
)

LOCK_FILE = "workflow.lock"


class TaskRunning(Protocol):
    """Runs one task of the preparation cube with these mounts, or raises a MedvalError
    (one line) when it could not run or failed; what it returns is not used."""

    def __call__(self, task: str, mounts: Mapping[str, Path]) -> object: ...


@dataclass(frozen=True)
class SetAside:
    case: str
    step: str
    reason: str


@dataclass(frozen=True)
class ToReview:
    step: str
    case: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowOutcome:
    """What a run left: the prepared data and labels (None while a review waits), the cases
    set aside and excluded, and what waits for review."""

    cases: int
    prepared: tuple[Path, Path] | None
    set_aside: tuple[SetAside, ...]
    excluded: tuple[str, ...]
    to_review: tuple[ToReview, ...]


@dataclass
class _Run:
    workflow: Workflow
    run_task: TaskRunning
    raw_data: Path
    raw_labels: Path
    folder: Path
    identity: str
    jobs: int
    say: Callable[[str], None]
    state: WorkflowState
    cases: list[str] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)
    labels_hash: str = ""
    finished: dict[str, set[str]] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)
    to_review: list[ToReview] = field(default_factory=list)
    step_cubes: Mapping[StepCube, TaskRunning] = field(default_factory=dict)


def workflow_folder(dataset_folder: Path) -> Path:
    return dataset_folder / WORKFLOW_FOLDER


def run_workflow(
    workflow: Workflow,
    run_task: TaskRunning,
    raw_data: Path,
    raw_labels: Path,
    folder: Path,
    *,
    identity: str = "",
    jobs: int = 1,
    say: Callable[[str], None] | None = None,
    step_cubes: Mapping[StepCube, TaskRunning] | None = None,
) -> WorkflowOutcome:
    """Run (or resume) ``workflow`` on the raw data; its state and outputs live in
    ``folder`` (:func:`workflow_folder` of the dataset's workspace folder). ``identity``
    (the cube's hash) is part of every step's input: another cube redoes every step.
    ``step_cubes``: what runs the tasks of the cubes steps pin (:mod:`.step_cubes`)."""
    with only_run(folder):
        return _run_workflow(
            workflow, run_task, raw_data, raw_labels, folder, identity, jobs, say, step_cubes or {}
        )


@contextmanager
def only_run(folder: Path) -> Iterator[None]:
    """One run of a dataset's workflow at a time, across processes: a second would clear
    what the first is writing. The lock goes with the process, however it ends."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"another preparation is running in {folder}: wait for it, or stop it"
            ) from None
        yield


def _run_workflow(
    workflow: Workflow,
    run_task: TaskRunning,
    raw_data: Path,
    raw_labels: Path,
    folder: Path,
    identity: str,
    jobs: int,
    say: Callable[[str], None] | None,
    step_cubes: Mapping[StepCube, TaskRunning],
) -> WorkflowOutcome:
    for step in workflow.pinned:  # each pinned cube given, before anything is touched
        runner_for(step, run_task, step_cubes)
    state = WorkflowState(folder)
    run = _Run(
        workflow, run_task, raw_data, raw_labels, folder, identity, max(1, jobs),
        say or (lambda _: None), state, step_cubes=step_cubes,
    )  # fmt: skip
    try:
        state.remember(RAW_DATA, str(raw_data))
        state.remember(STEPS, steps_fact(workflow))
        for step in workflow.steps:
            if step.runs is StepRuns.REVIEW and step.source is not None:
                state.remember(review_fact(step.name), step.source)
        run.cases = cases_of(raw_data)
        state.remember(CASES, str(len(run.cases)))
        run.excluded = state.excluded() & set(run.cases)
        run.labels_hash = tree_hash(raw_labels)
        for step in workflow.steps:
            StepFolders(folder, step.name).clear_partial()
        for step in workflow.steps:
            _run_step(run, step)
        outcome = WorkflowOutcome(
            cases=len(run.cases),
            prepared=_prepared(run),
            set_aside=tuple(sorted(run.set_aside, key=lambda s: s.case)),
            excluded=tuple(sorted(run.excluded)),
            to_review=tuple(run.to_review),
        )
        if outcome.prepared is not None:
            state.remember(LEFT_OUT, left_out_fact(outcome))
        return outcome
    finally:
        state.close()


def _run_step(run: _Run, step: WorkflowStep) -> None:
    run.finished[step.name] = set()
    if step.runs is StepRuns.WHOLE:
        if _waits_for_review(run, step):
            run.say(f"{step.name}: waits for a review")
            return
        _run_whole(run, step)
        return
    ready = [case for case in run.cases if _ready(run, step, case)]
    if step.runs is StepRuns.REVIEW:
        for case in ready:
            _review(run, step, case)
        return
    # Imported here: client.side_by_side reads client.execution, which runs workflows.
    from medval.client.side_by_side import run_each

    # Ctrl-C stops every sandbox running and starts no other case (``run_each``); a case
    # stopped so records nothing, and runs again at the next run.
    clock = StepClock(step.name, len(ready), run.say)

    def one(index: int) -> None:
        clock.case_finished(_run_case(run, step, ready[index]))

    run_each(len(ready), run.jobs, one, lambda: True)
    run.say(f"{step.name}: {len(run.finished[step.name])} of {len(ready)} cases finished")


def _ready(run: _Run, step: WorkflowStep, case: str) -> bool:
    if case in run.excluded:
        return False
    for before in step.after:
        done = run.finished[before]
        if WHOLE not in done and case not in done:
            return False
    return True


def _waits_for_review(run: _Run, step: WorkflowStep) -> bool:
    waiting = {item.step for item in run.to_review}
    seen: set[str] = set()
    pending = list(step.after)
    while pending:
        name = pending.pop()
        if name in waiting:
            return True
        if name not in seen:
            seen.add(name)
            pending.extend(run.workflow.step(name).after)
    return False


def _case_input(run: _Run, step: WorkflowStep, case: str) -> tuple[Path, bool]:
    """What a per-case step reads for a case, and whether that is the case's own entry (of
    the raw data, or of a whole step's output), to be put alone in a folder of its own."""
    if step.source is None:
        return run.raw_data / case, True
    source = run.workflow.step(step.source)
    if source.runs is StepRuns.WHOLE:
        return StepFolders(run.folder, source.name).output / "data" / case, True
    return StepFolders(run.folder, source.name).case(case) / "data", False


def _input_hash(run: _Run, step: WorkflowStep, read: Path) -> str:
    if read.is_dir():
        content = tree_hash(read)
    else:  # a case that is a file of the raw data
        digest = hashlib.sha256()
        with read.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        content = "file:" + digest.hexdigest()
    parts = (step_identity(run.identity, step), step.task or step.name, content, run.labels_hash)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _outputs(step: WorkflowStep, partial: Path) -> dict[str, Path]:
    outputs = {"output_path": partial / "data"}
    if step.task == PREPARE_TASK:
        outputs["output_labels_path"] = partial / "labels"
    return outputs


def _run_task(run: _Run, step: WorkflowStep, read: Path, partial: Path) -> None:
    assert step.task is not None
    mounts = {"data_path": read, "labels_path": run.raw_labels, **_outputs(step, partial)}
    runner_for(step, run.run_task, run.step_cubes)(step.task, mounts)


def _run_case(run: _Run, step: WorkflowStep, case: str) -> bool:
    """The case's task run for ``step`` (True), or what an earlier run left kept (False)."""
    folders = StepFolders(run.folder, step.name)
    read, alone = _case_input(run, step, case)
    if not read.exists():
        run.set_aside.append(
            SetAside(case, step.name, f"step {step.source!r} wrote nothing for it")
        )
        return False
    try:
        input_hash = _input_hash(run, step, read)
    except MedvalError as exc:
        run.set_aside.append(SetAside(case, step.name, exc.message))
        return False
    known = run.state.get(step.name, case)
    if known is not None and known.input_hash == input_hash:
        if known.state is CaseState.DONE and folders.case(case).is_dir():
            run.finished[step.name].add(case)
            return False
        if known.state is CaseState.FAILED:
            run.set_aside.append(SetAside(case, step.name, known.reason))
            return False
    if known is not None:  # a case never run has nothing to forget (and no write to wait on)
        run.state.forget(step.name, case)
    if alone:
        staged = folders.input(case)
        link_entry(read, staged / case)
        read = staged
    partial = folders.partial(case)
    try:
        _run_task(run, step, read, partial)
    except MedvalError as exc:
        run.state.record(step.name, case, CaseState.FAILED, input_hash, exc.message)
        run.set_aside.append(SetAside(case, step.name, exc.message))
        shutil.rmtree(partial, ignore_errors=True)
        return True
    finally:
        if alone:
            shutil.rmtree(read, ignore_errors=True)
    put_in_place(partial, folders.case(case))
    run.state.record(step.name, case, CaseState.DONE, input_hash)
    run.finished[step.name].add(case)
    return True


def _review(run: _Run, step: WorkflowStep, case: str) -> None:
    assert step.source is not None
    produced = StepFolders(run.folder, step.source).case(case) / "data"
    known = run.state.get(step.name, case)
    if known is not None and known.input_hash == review_hash(produced):
        run.finished[step.name].add(case)
        return
    files = sorted(
        {
            str(path.relative_to(produced))
            for pattern in step.files
            for path in produced.rglob(pattern)
        }
    )
    run.to_review.append(ToReview(step.name, case, tuple(files)))


def _run_whole(run: _Run, step: WorkflowStep) -> None:
    folders = StepFolders(run.folder, step.name)
    read = folders.input("all")
    cases = [case for case in run.cases if _ready(run, step, case)]
    if step.source is None:
        for case in cases:
            link_entry(run.raw_data / case, read / case)
    else:
        source = StepFolders(run.folder, step.source)
        merge(((case, source.case(case) / "data") for case in cases), read)
    input_hash = _input_hash(run, step, read)
    known = run.state.get(step.name, WHOLE)
    if (
        known is not None
        and known.state is CaseState.DONE
        and known.input_hash == input_hash
        and folders.output.is_dir()
    ):
        run.finished[step.name].add(WHOLE)
        shutil.rmtree(read, ignore_errors=True)
        return
    run.state.forget(step.name, WHOLE)
    partial = folders.partial("whole")
    try:
        _run_task(run, step, read, partial)
    except MedvalError as exc:
        run.state.record(step.name, WHOLE, CaseState.FAILED, input_hash, exc.message)
        raise
    finally:
        shutil.rmtree(read, ignore_errors=True)
    put_in_place(partial, folders.output)
    run.state.record(step.name, WHOLE, CaseState.DONE, input_hash)
    run.finished[step.name].add(WHOLE)


def _prepared(run: _Run) -> tuple[Path, Path] | None:
    """The prepared data and labels: the final step's output, once nothing waits."""
    final = run.workflow.final
    if run.to_review or not run.finished[final.name]:
        return None
    folders = StepFolders(run.folder, final.name)
    if final.runs is StepRuns.WHOLE:
        return folders.output / "data", folders.output / "labels"
    prepared = run.folder / "prepared"
    shutil.rmtree(prepared, ignore_errors=True)
    cases = sorted(run.finished[final.name] - run.excluded)
    for part in ("data", "labels"):
        merge(((case, folders.case(case) / part) for case in cases), prepared / part)
    return prepared / "data", prepared / "labels"
