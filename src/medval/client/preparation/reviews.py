"""The reviews a dataset's workflow waits for, and the reviewer's answers that need more
than a row of the state: replacing a file the step before the review wrote, and excluding
a case at a review step.

Read from the state file (:mod:`.state`) and the steps' folders alone, so a list is right
between runs or while one goes on, and needs neither the cube nor the server. A case waits
at a review step when the step before it finished the case and no review accepted what it
wrote as it is now (a file replaced, or the step run again, asks for the review again).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.client.preparation.case_folders import StepFolders, cases_of
from medval.client.preparation.facts import review_fact, review_hash
from medval.client.preparation.state import (
    RAW_DATA,
    STATE_FILE,
    STEPS,
    CaseState,
    WorkflowState,
)
from medval.client.preparation.workflow_run import only_run
from medval.core.errors import InvalidInput, NotFound
from medval.core.preparation_workflow import StepRuns


@dataclass(frozen=True)
class RecordedStep:
    """A step as the last run had it."""

    name: str
    runs: StepRuns
    files: tuple[str, ...]


@dataclass(frozen=True)
class WaitingReview:
    """A case waiting at a review step, and the files (full paths) to look at."""

    step: str
    case: str
    files: tuple[Path, ...]


def recorded_steps(state: WorkflowState) -> list[RecordedStep]:
    """The steps of the last run, in order (none before it recorded them)."""
    found = state.fact(STEPS)
    if found is None:
        return []
    return [
        RecordedStep(step["name"], StepRuns(step["runs"]), tuple(step["files"]))
        for step in json.loads(found)
    ]


@contextmanager
def opened_state(folder: Path, dataset: str) -> Iterator[WorkflowState]:
    if not (folder / STATE_FILE).is_file():
        raise NotFound(f"dataset {dataset} has no preparation workflow here")
    state = WorkflowState(folder)
    try:
        yield state
    finally:
        state.close()


def current_cases(state: WorkflowState) -> list[str]:
    """The cases of the raw data the workflow last ran on, as it is now."""
    raw_data = state.fact(RAW_DATA)
    if raw_data is None or not Path(raw_data).is_dir():
        return []
    return cases_of(Path(raw_data))


def reviews_waiting(folder: Path, dataset: str) -> list[WaitingReview]:
    """Every case waiting at a review step, step by step in the workflow's order."""
    with opened_state(folder, dataset) as state:
        return _waiting(folder, state)


def _waiting(folder: Path, state: WorkflowState) -> list[WaitingReview]:
    excluded = state.excluded()
    cases = [case for case in current_cases(state) if case not in excluded]
    waiting = []
    for step in recorded_steps(state):
        if step.runs is not StepRuns.REVIEW:
            continue
        source = state.fact(review_fact(step.name))
        if source is None:
            continue
        for case in cases:
            produced = _produced(folder, state, source, case)
            if produced is None:
                continue
            known = state.get(step.name, case)
            if known is not None and known.input_hash == review_hash(produced):
                continue
            files = sorted({path for pattern in step.files for path in produced.rglob(pattern)})
            waiting.append(WaitingReview(step.name, case, tuple(files)))
    return waiting


def waiting_count(folder: Path, state: WorkflowState, step: str) -> int:
    """How many cases wait at the review step ``step``."""
    return sum(1 for item in _waiting(folder, state) if item.step == step)


def _produced(folder: Path, state: WorkflowState, source: str, case: str) -> Path | None:
    """What ``source`` wrote for the case, once it finished it."""
    finished = state.get(source, case)
    produced = StepFolders(folder, source).case(case) / "data"
    if finished is None or finished.state is not CaseState.DONE or not produced.is_dir():
        return None
    return produced


def reviewed_output(folder: Path, state: WorkflowState, step: str, case: str) -> Path:
    """What the review step ``step`` looks at for the case; a step that is not a review
    step of the workflow, a case that is not one, or a case not reviewable yet is one line
    (exit 2), and nothing changes."""
    source = state.fact(review_fact(step))
    if source is None:
        raise InvalidInput(f"{step!r} is not a review step of the workflow")
    raw_data = state.fact(RAW_DATA)
    if case not in current_cases(state):
        raise InvalidInput(f"{case!r} is not a case of {raw_data}")
    produced = _produced(folder, state, source, case)
    if produced is None:
        raise InvalidInput(f"case {case!r} has nothing to review at {step!r} yet")
    return produced


def replace_reviewed_file(
    folder: Path, dataset: str, step: str, case: str, relpath: str, new_file: Path
) -> str:
    """The reviewer's corrected ``new_file`` in place of the file at ``relpath`` (as the
    review list names it, under what the step before the review wrote for the case), and
    the review accepted with that content. Returns the new file's sha256.

    Refused in one line (exit 2) with nothing changed: a path outside the case's output or
    not a file there, a new file that is not a file. Refused while a preparation runs (it
    may be reading the case). The file is written in the workflow's folder and renamed over it: a
    kill leaves the old file or the new one, and a file another step linked keeps its
    content (a new inode, never a write into the old one)."""
    with only_run(folder), opened_state(folder, dataset) as state:
        produced = reviewed_output(folder, state, step, case)
        target = _inside(produced, relpath, case)
        if not new_file.is_file() or new_file.is_symlink():
            raise InvalidInput(f"{new_file} is not a file to put in place of {relpath}")
        digest = _copy_over(new_file, target, folder)
        state.record(step, case, CaseState.DONE, review_hash(produced))
    return digest


def _inside(produced: Path, relpath: str, case: str) -> Path:
    parts = PurePosixPath(relpath).parts
    target = produced.joinpath(*parts)
    if (
        not parts
        or PurePosixPath(relpath).is_absolute()
        or ".." in parts
        or not target.resolve().is_relative_to(produced.resolve())
    ):
        raise InvalidInput(f"{relpath} is outside what was written for case {case!r}")
    if target.is_symlink() or not target.is_file():
        raise InvalidInput(f"{relpath} is not a file written for case {case!r}")
    return target


def _copy_over(new_file: Path, target: Path, folder: Path) -> str:
    # Staged in the workflow's folder (the same file system), never in the case's output:
    # a kill before the rename leaves nothing among what the case's hash covers.
    digest = hashlib.sha256()
    handle, staged = tempfile.mkstemp(dir=folder, prefix=".replacing-")
    try:
        with new_file.open("rb") as source, os.fdopen(handle, "wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        shutil.copymode(target, staged)
        os.replace(staged, target)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def exclude_at_review(folder: Path, dataset: str, step: str, case: str) -> None:
    """The reviewer leaves the case out (counted among the exclusions)."""
    with opened_state(folder, dataset) as state:
        source = state.fact(review_fact(step))
        if source is None:
            raise InvalidInput(f"{step!r} is not a review step of the workflow")
        if case not in current_cases(state):
            raise InvalidInput(f"{case!r} is not a case of {state.fact(RAW_DATA)}")
        state.exclude(case)
