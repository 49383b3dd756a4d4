"""A dataset's preparation report, built from its workflow's state file alone: per step, how
many cases are done, failed, waiting for review, or not yet there, and how many are
excluded; small cells withheld by ``core.preparation_report``. It names no case.

Readable while a preparation runs or after it stopped; a workflow that never ran (no state
file) or that ran before the state kept its steps is one line.
"""

from __future__ import annotations

from pathlib import Path

from medval.client.preparation.facts import review_fact
from medval.client.preparation.reviews import recorded_steps
from medval.client.preparation.state import CASES, STATE_FILE, CaseState, WorkflowState
from medval.core.errors import NotFound
from medval.core.preparation_report import PreparationReportCreate, StepCounts, suppressed_report
from medval.core.preparation_workflow import StepRuns


def step_counts(folder: Path, dataset: str) -> tuple[int, int, list[StepCounts]]:
    """The cases, the excluded ones and each step's counts, as the state in ``folder``
    (a dataset's workflow folder) holds them: nothing withheld yet (never sent so)."""
    if not (folder / STATE_FILE).is_file():
        raise NotFound(f"dataset {dataset} has no preparation workflow here")
    state = WorkflowState(folder)
    try:
        steps, cases = recorded_steps(state), state.fact(CASES)
        if not steps or cases is None:
            raise NotFound(
                f"the preparation workflow of {dataset} has not run since medval kept its "
                "steps: run medval dataset prepare again (nothing finished is redone)"
            )
        rows = state.all()
        excluded = state.excluded()
        sources = {
            step.name: state.fact(review_fact(step.name))
            for step in steps
            if step.runs is StepRuns.REVIEW
        }
    finally:
        state.close()
    left = int(cases) - len(excluded)
    by_step: dict[str, dict[str, CaseState]] = {}
    for row in rows:
        if row.case not in excluded:
            by_step.setdefault(row.step, {})[row.case] = row.state
    counted: list[StepCounts] = []
    for step in steps:
        name, kind = step.name, step.runs
        states = by_step.get(name, {})
        done = sum(1 for s in states.values() if s is CaseState.DONE)
        failed = sum(1 for s in states.values() if s is CaseState.FAILED)
        waiting = 0
        if kind is StepRuns.REVIEW:
            source = by_step.get(sources.get(name) or "", {})
            waiting = sum(
                1 for case, s in source.items() if s is CaseState.DONE and case not in states
            )
        total = 1 if kind is StepRuns.WHOLE else left
        not_yet = max(0, total - done - failed - waiting)
        counted.append(StepCounts(name, kind, done, failed, waiting, not_yet))
    return int(cases), len(excluded), counted


def preparation_report(
    folder: Path, dataset: str, benchmark_id: int, min_cell_count: int
) -> PreparationReportCreate:
    """The report of the workflow in ``folder`` as it may leave, under ``min_cell_count``."""
    cases, excluded, steps = step_counts(folder, dataset)
    return suppressed_report(benchmark_id, dataset, cases, excluded, steps, min_cell_count)
