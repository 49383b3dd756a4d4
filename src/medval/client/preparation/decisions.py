"""The data owner's decisions on a case of a workflow: retry it, exclude it, accept a review.

Each is one transaction on the workflow's state (:mod:`.state`), taken when no run is going
on or while one is (the run reads them when it next starts). A case the data owner names
that the raw data does not hold is one line (exit 2), and nothing changes.
"""

from __future__ import annotations

from pathlib import Path

from medval.client.preparation.case_folders import StepFolders, cases_of
from medval.client.preparation.state import CaseState, WorkflowState
from medval.client.preparation.workflow_run import review_hash
from medval.core.errors import InvalidInput
from medval.core.preparation_workflow import StepRuns, Workflow


def _known_case(raw_data: Path, case: str) -> None:
    if case not in cases_of(raw_data):
        raise InvalidInput(f"{case!r} is not a case of {raw_data}")


def retry_case(folder: Path, raw_data: Path, case: str) -> None:
    """Run the case's failed step again at the next run (its input fixed or not)."""
    _known_case(raw_data, case)
    state = WorkflowState(folder)
    try:
        if not state.failures_of(case):
            raise InvalidInput(f"case {case!r} has no failed step to retry")
        state.retry(case)
    finally:
        state.close()


def exclude_case(folder: Path, raw_data: Path, case: str) -> None:
    """Leave the case out of the prepared data (counted among the exclusions)."""
    _known_case(raw_data, case)
    state = WorkflowState(folder)
    try:
        state.exclude(case)
    finally:
        state.close()


def accept_review(folder: Path, raw_data: Path, workflow: Workflow, step: str, case: str) -> None:
    """The reviewer accepts what the step before the review wrote for the case, as it is
    now: a later change to it asks for the review again."""
    _known_case(raw_data, case)
    names = [s.name for s in workflow.steps if s.runs is StepRuns.REVIEW]
    if step not in names:
        raise InvalidInput(f"{step!r} is not a review step of the workflow ({', '.join(names)})")
    source = workflow.step(step).source
    assert source is not None
    produced = StepFolders(folder, source).case(case) / "data"
    state = WorkflowState(folder)
    try:
        finished = state.get(source, case)
        if finished is None or finished.state is not CaseState.DONE or not produced.is_dir():
            raise InvalidInput(f"case {case!r} has nothing to review at {step!r} yet")
        state.record(step, case, CaseState.DONE, review_hash(produced))
    finally:
        state.close()
