"""How far a dataset's preparation workflow got, read from its state file alone: per step,
how many cases finished and how many failed, and how many cases were excluded. Readable
while a preparation runs (another process) or after it stopped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from medval.client.preparation.state import STATE_FILE, CaseState, WorkflowState
from medval.core.errors import NotFound


class StepCount(BaseModel):
    """One step's cases: finished, and failed (set aside); a whole step counts as one."""

    model_config = ConfigDict(frozen=True)

    step: str
    done: int
    failed: int


@dataclass(frozen=True)
class WorkflowCounts:
    steps: tuple[StepCount, ...]
    excluded: int


def workflow_counts(folder: Path, dataset: str) -> WorkflowCounts:
    """The counts kept in ``folder`` (a dataset's workflow folder); none is one line."""
    if not (folder / STATE_FILE).is_file():
        raise NotFound(f"dataset {dataset} has no preparation workflow here")
    state = WorkflowState(folder)
    try:
        rows = state.all()
        excluded = len(state.excluded())
    finally:
        state.close()
    steps: dict[str, list[int]] = {}
    for row in rows:
        counts = steps.setdefault(row.step, [0, 0])
        counts[0 if row.state is CaseState.DONE else 1] += 1
    return WorkflowCounts(
        tuple(
            StepCount(step=step, done=done, failed=failed) for step, (done, failed) in steps.items()
        ),
        excluded,
    )
