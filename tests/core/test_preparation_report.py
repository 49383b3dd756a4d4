"""The preparation report's small-cell rule: what leaves of a workflow's counts, and the
server's check that refuses a report that would show (or give away) a small cell."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medval.core.preparation_report import (
    PreparationReportCreate,
    StepCounts,
    StepReport,
    small_cells_in_report,
    suppressed_report,
)
from medval.core.preparation_workflow import StepRuns

K = 10


def _steps(*rows: tuple[str, StepRuns, int, int, int, int]) -> list[StepCounts]:
    return [StepCounts(*row) for row in rows]


def test_nothing_small_leaves_as_it_is() -> None:
    steps = _steps(
        ("convert", StepRuns.PER_CASE, 150, 20, 0, 30),
        ("look", StepRuns.REVIEW, 100, 0, 50, 50),
        ("prepare", StepRuns.WHOLE, 0, 0, 0, 1),
    )
    report = suppressed_report(4, "site-a", 200, 0, steps, K)
    assert report.withheld == []
    assert (report.cases, report.excluded) == (200, 0)
    assert report.steps[0] == StepReport(
        step="convert", runs=StepRuns.PER_CASE, done=150, failed=20, waiting_for_review=0,
        not_yet=30,
    )  # fmt: skip
    assert small_cells_in_report(report, K) == []


def test_a_small_count_goes_with_the_smallest_other_and_excluded_takes_cases() -> None:
    steps = _steps(
        ("convert", StepRuns.PER_CASE, 194, 3, 0, 0),
        ("look", StepRuns.REVIEW, 150, 0, 44, 3),
        ("prepare", StepRuns.WHOLE, 0, 0, 0, 1),
    )
    report = suppressed_report(4, "site-a", 200, 3, steps, K)
    convert, look, prepare = report.steps
    # convert: 3 failed is small; withheld alone it could be recovered from another step's
    # sum (197), so the smallest other non-zero count goes with it (a zero hides nothing).
    assert (convert.done, convert.failed, convert.waiting_for_review, convert.not_yet) == (
        None, None, 0, 0
    )  # fmt: skip
    assert (look.done, look.failed, look.waiting_for_review, look.not_yet) == (150, 0, None, None)
    assert (prepare.done, prepare.not_yet) == (0, 1)  # a whole step's counts are not patients'
    assert (report.cases, report.excluded) == (None, None)
    assert report.withheld == [
        "cases", "excluded", "steps.convert.done", "steps.convert.failed",
        "steps.look.waiting_for_review", "steps.look.not_yet",
    ]  # fmt: skip
    assert small_cells_in_report(report, K) == []


def test_fewer_cases_than_k_withholds_every_count_of_cases() -> None:
    steps = _steps(("convert", StepRuns.PER_CASE, 8, 0, 0, 0))
    report = suppressed_report(4, "site-a", 8, 0, steps, K)
    assert (report.cases, report.excluded) == (None, None)
    step = report.steps[0]
    assert (step.done, step.failed, step.waiting_for_review, step.not_yet) == (None,) * 4
    assert small_cells_in_report(report, K) == []


def _report(**fields: object) -> PreparationReportCreate:
    step = {"step": "convert", "runs": "per_case", "done": 190, "failed": 10,
            "waiting_for_review": 0, "not_yet": 0}  # fmt: skip
    body = {"benchmark_id": 1, "dataset": "site-a", "min_cell_count": K, "cases": 200,
            "excluded": 0, "steps": [step]}  # fmt: skip
    for name, value in fields.items():
        if name in step:
            step[name] = value
        else:
            body[name] = value
    return PreparationReportCreate.model_validate(body)


def test_the_servers_check_names_what_breaks_the_rule() -> None:
    assert small_cells_in_report(_report(), K) == []
    assert small_cells_in_report(_report(failed=3, done=197), K) == [
        "steps.convert.failed: a count of 3, below the minimum cell size 10"
    ]
    assert small_cells_in_report(_report(failed=None), K) == [
        "steps.convert: one count alone is withheld (the others give it away)"
    ]
    assert small_cells_in_report(_report(excluded=4), K) == [
        "excluded: a count of 4, below the minimum cell size 10"
    ]
    assert small_cells_in_report(_report(excluded=None), K) == [
        "cases: shown while excluded is withheld (it would give it away)"
    ]


def test_a_report_with_a_case_name_for_a_step_or_a_stray_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        _report(step="../subject 001")
    with pytest.raises(ValidationError):
        _report(cases_named=["subject-001"])
    with pytest.raises(ValidationError):
        _report(min_cell_count=2)
