"""A preparation report: how far a site's preparation workflow got, per step and state, with
no patient data and small cells withheld by medval itself (the API contract, and the rule).

The data owner builds it from the workflow's state (``client.preparation.report``), sees
the exact payload, and may send it to the benchmark's server, where the benchmark owner
(a committee) sees where sites are stuck. It names the steps (the cube's words) and counts
cases; it never names a case.

Per step, each case left (not excluded) is in exactly one state: ``done``, ``failed``
(set aside), ``waiting_for_review`` (a review step: the step before it finished the case,
no one has answered yet) or ``not_yet``; those four sum to ``cases - excluded``. A ``whole``
step counts the dataset as one (0 or 1): its counts are of a step, not of patients, and are
not withheld. The rest is withheld, as ``core.small_cells`` withholds statistics:

- with fewer than ``k`` cases, every count of cases (``cases``, ``excluded``, each step's);
- every count ``0 < c < k``;
- a step that would hold exactly one withheld count (it could be recovered from the sum)
  withholds its smallest other non-zero count too (a zero if there is none);
- a withheld ``excluded`` withholds ``cases`` too (else ``cases`` less a step's sum gives it).

The server runs :func:`small_cells_in_report` on what it is sent and refuses a report in
which it finds any. Imports only pydantic and ``core``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from medval.core.preparation_workflow import StepRuns
from medval.core.schema_types import Id, Name, Schema
from medval.core.small_cells import LOWEST_MIN_CELL_COUNT

Count = Annotated[int, Field(ge=0, le=1_000_000_000)]
# Where a withheld count was: "cases", "excluded", "steps.STEP.STATE".
CellPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,120}$")]
STATES = ("done", "failed", "waiting_for_review", "not_yet")


class StepReport(Schema):
    step: Name
    runs: StepRuns
    done: Count | None
    failed: Count | None
    waiting_for_review: Count | None
    not_yet: Count | None


class PreparationReportCreate(Schema):
    """What a data owner sends: counts only, ``None`` where withheld (``withheld`` says
    which), under the minimum cell size it applied."""

    benchmark_id: Id
    dataset: Name
    min_cell_count: int = Field(ge=LOWEST_MIN_CELL_COUNT, le=1_000_000_000)
    cases: Count | None
    excluded: Count | None
    steps: list[StepReport] = Field(min_length=1, max_length=100)
    withheld: list[CellPath] = Field(default_factory=list, max_length=500)


class PreparationReportPublic(PreparationReportCreate):
    id: int
    owner_id: int
    owner: str
    created_at: datetime


@dataclass(frozen=True)
class StepCounts:
    """One step's counts as the state holds them, before anything is withheld."""

    step: str
    runs: StepRuns
    done: int
    failed: int
    waiting_for_review: int
    not_yet: int


def _withheld_in_step(counts: dict[str, int | None], small: set[str]) -> set[str]:
    """The states of one step to withhold: the small ones, and one more if one alone is."""
    hidden = set(small)
    if len(hidden) == 1:
        others = sorted(
            (state for state in STATES if state not in hidden),
            key=lambda state: (counts[state] == 0, counts[state]),
        )
        hidden.add(others[0])
    return hidden


def suppressed_report(
    benchmark_id: int,
    dataset: str,
    cases: int,
    excluded: int,
    steps: list[StepCounts],
    k: int,
) -> PreparationReportCreate:
    """The report as it may leave: every small cell withheld (see the module's rules)."""
    few = 0 < cases < k
    withheld: list[str] = []

    def small(count: int) -> bool:
        return few or 0 < count < k

    hide_excluded = small(excluded)
    hide_cases = few or hide_excluded
    reported: list[StepReport] = []
    for step in steps:
        counts: dict[str, int | None] = {state: getattr(step, state) for state in STATES}
        if step.runs is not StepRuns.WHOLE:
            hidden = _withheld_in_step(
                counts, {state for state in STATES if small(counts[state] or 0)}
            )
            for state in STATES:
                if state in hidden:
                    counts[state] = None
                    withheld.append(f"steps.{step.step}.{state}")
        reported.append(StepReport(step=step.step, runs=step.runs, **counts))
    if hide_excluded:
        withheld.insert(0, "excluded")
    if hide_cases:
        withheld.insert(0, "cases")
    return PreparationReportCreate(
        benchmark_id=benchmark_id,
        dataset=dataset,
        min_cell_count=k,
        cases=None if hide_cases else cases,
        excluded=None if hide_excluded else excluded,
        steps=reported,
        withheld=withheld,
    )


def small_cells_in_report(report: PreparationReportCreate, k: int) -> list[str]:
    """What in a report breaks the rules under ``k`` (one line each; none: it may be kept)."""
    found: list[str] = []
    for where, count in (("cases", report.cases), ("excluded", report.excluded)):
        if count is not None and 0 < count < k:
            found.append(f"{where}: a count of {count}, below the minimum cell size {k}")
    if report.excluded is None and report.cases is not None:
        found.append("cases: shown while excluded is withheld (it would give it away)")
    for step in report.steps:
        if step.runs is StepRuns.WHOLE:
            continue
        values = [getattr(step, state) for state in STATES]
        for state, count in zip(STATES, values, strict=True):
            if count is not None and 0 < count < k:
                found.append(
                    f"steps.{step.step}.{state}: a count of {count}, below the minimum "
                    f"cell size {k}"
                )
        if values.count(None) == 1:
            found.append(
                f"steps.{step.step}: one count alone is withheld (the others give it away)"
            )
    return found
