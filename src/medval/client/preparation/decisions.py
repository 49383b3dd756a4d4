"""The data owner's decisions on a case of a workflow: retry it, exclude it, accept a review.

Each is one transaction on the workflow's state (:mod:`.state`) in ``folder`` (a dataset's
workflow folder), taken between runs or while one goes on (a run reads them when it next
starts). The cases are those of the raw data the workflow last ran on. A case, or a review
step, that is not one is one line (exit 2), and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medval.client.preparation.case_folders import cases_of
from medval.client.preparation.facts import review_hash
from medval.client.preparation.reviews import reviewed_output
from medval.client.preparation.state import RAW_DATA, STATE_FILE, CaseState, WorkflowState
from medval.core.errors import InvalidInput, NotFound


@contextmanager
def _state_with_case(folder: Path, case: str) -> Iterator[WorkflowState]:
    if not (folder / STATE_FILE).is_file():
        raise NotFound(f"{folder} holds no preparation workflow")
    state = WorkflowState(folder)
    try:
        raw_data = state.fact(RAW_DATA)
        if raw_data is None or not Path(raw_data).is_dir():
            raise NotFound(f"the raw data this workflow ran on ({raw_data}) is not there")
        if case not in cases_of(Path(raw_data)):
            raise InvalidInput(f"{case!r} is not a case of {raw_data}")
        yield state
    finally:
        state.close()


def retry_case(folder: Path, case: str) -> list[str]:
    """Run the case's failed step again at the next run (its input fixed or not); returns
    the steps it failed at."""
    with _state_with_case(folder, case) as state:
        failed = [failure.step for failure in state.failures_of(case)]
        if not failed:
            raise InvalidInput(f"case {case!r} has no failed step to retry")
        state.retry(case)
    return failed


def exclude_case(folder: Path, case: str) -> None:
    """Leave the case out of the prepared data (counted among the exclusions)."""
    with _state_with_case(folder, case) as state:
        state.exclude(case)


def accept_review(folder: Path, step: str, case: str) -> str:
    """The reviewer accepts what the step before the review wrote for the case, as it is
    now: a later change to it asks for the review again. Returns the hash accepted."""
    with _state_with_case(folder, case) as state:
        accepted = review_hash(reviewed_output(folder, state, step, case))
        state.record(step, case, CaseState.DONE, accepted)
    return accepted
