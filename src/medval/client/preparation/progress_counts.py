"""How far a dataset's preparation workflow got, read from its state file alone: per step,
how many cases finished, failed and still wait, and when a case of it last finished; how
many cases were excluded; and the cases the prepared data left out. Readable while a
preparation runs (another process) or after it stopped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from medval.client.preparation.reviews import (
    current_cases,
    opened_state,
    recorded_steps,
    waiting_count,
)
from medval.client.preparation.state import (
    LEFT_OUT,
    STATE_FILE,
    WHOLE,
    CaseState,
    StepCase,
    WorkflowState,
)
from medval.core.preparation_workflow import StepRuns


class StepCount(BaseModel):
    """One step's cases: finished, failed (set aside), and waiting (not run yet, or waiting
    for a review); a whole step counts as one. ``last_progressed``: when a case of it last
    finished or failed (None: none yet)."""

    model_config = ConfigDict(frozen=True)

    step: str
    done: int
    failed: int
    waiting: int = 0
    last_progressed: datetime | None = None


@dataclass(frozen=True)
class WorkflowCounts:
    steps: tuple[StepCount, ...]
    excluded: int


def workflow_counts(folder: Path, dataset: str) -> WorkflowCounts:
    """The counts kept in ``folder`` (a dataset's workflow folder); none is one line."""
    with opened_state(folder, dataset) as state:
        rows = state.all()
        excluded = state.excluded()
        active = [case for case in current_cases(state) if case not in excluded]
        recorded = recorded_steps(state)
        if recorded:
            steps = [_count(folder, state, step.name, step.runs, rows, active) for step in recorded]
        else:  # a state from before the steps were recorded: the steps that have rows
            names = dict.fromkeys(row.step for row in rows)
            steps = [_count(folder, state, name, None, rows, active) for name in names]
    return WorkflowCounts(tuple(steps), len(excluded))


def _count(
    folder: Path,
    state: WorkflowState,
    step: str,
    runs: StepRuns | None,
    rows: list[StepCase],
    active: list[str],
) -> StepCount:
    mine = [row for row in rows if row.step == step]
    done = sum(1 for row in mine if row.state is CaseState.DONE)
    failed = len(mine) - done
    if runs is StepRuns.REVIEW:
        waiting = waiting_count(folder, state, step)
    elif runs is StepRuns.WHOLE:
        waiting = 0 if mine else 1
    elif runs is StepRuns.PER_CASE:
        finished = {row.case for row in mine if row.case != WHOLE}
        waiting = sum(1 for case in active if case not in finished)
    else:
        waiting = 0
    at = state.last_progressed(step)
    return StepCount(
        step=step,
        done=done,
        failed=failed,
        waiting=waiting,
        last_progressed=datetime.fromisoformat(at) if at else None,
    )


@dataclass(frozen=True)
class CasesLeftOut:
    """The cases the last prepared data left out, by name: never sent."""

    excluded: tuple[str, ...]
    set_aside: tuple[str, ...]


def cases_left_out(folder: Path) -> CasesLeftOut:
    """As the last run that prepared the data recorded them (none: nothing left out)."""
    if not (folder / STATE_FILE).is_file():
        return CasesLeftOut((), ())
    state = WorkflowState(folder)
    try:
        found = state.fact(LEFT_OUT)
    finally:
        state.close()
    if found is None:
        return CasesLeftOut((), ())
    names = json.loads(found)
    return CasesLeftOut(tuple(names["excluded"]), tuple(names["set_aside"]))
