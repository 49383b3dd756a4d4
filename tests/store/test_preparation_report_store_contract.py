"""The store contract of preparation reports: every backend (file SQLite, PostgreSQL)
keeps a report as sent (withheld counts stay NULL), lists a benchmark's reports oldest
first and in pages, and logs each one added."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.world import NOW, benchmark_world, make_user

from medval.core.errors import NotFound
from medval.core.preparation_report import PreparationReportCreate, StepReport
from medval.core.preparation_workflow import StepRuns
from medval.server.store.interface import Store


def _report(benchmark_id: int, done: int | None) -> PreparationReportCreate:
    steps = [
        StepReport(
            step="convert",
            runs=StepRuns.PER_CASE,
            done=done,
            failed=None,
            waiting_for_review=0,
            not_yet=40,
        ),
        StepReport(
            step="prepare", runs=StepRuns.WHOLE, done=0, failed=0, waiting_for_review=0, not_yet=1
        ),
    ]
    return PreparationReportCreate(
        benchmark_id=benchmark_id, dataset="site-a", min_cell_count=10, cases=None,
        excluded=None, steps=steps, withheld=["cases", "excluded", "steps.convert.failed"],
    )  # fmt: skip


def test_reports_are_kept_as_sent_listed_by_benchmark_and_logged(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        site = make_user(tx, "site")
        first = tx.add_preparation_report(site.id, _report(ids["benchmark"], None), NOW)
        second = tx.add_preparation_report(
            site.id, _report(ids["benchmark"], 150), NOW + timedelta(hours=1)
        )
    with store.transaction() as tx:
        assert tx.preparation_report(first.id) == first
        assert tx.preparation_report(second.id + 1) is None
        assert (first.owner, first.owner_id, first.created_at) == ("site", site.id, NOW)
        assert first.cases is None and first.steps[0].done is None
        assert first.withheld == ["cases", "excluded", "steps.convert.failed"]
        assert second.steps[0].done == 150 and second.steps[1].runs is StepRuns.WHOLE
        assert tx.list_preparation_reports(ids["benchmark"]) == [first, second]
        assert tx.list_preparation_reports(ids["benchmark"], limit=1) == [first]
        assert tx.list_preparation_reports(ids["benchmark"], after=(first.id,)) == [second]
        assert tx.list_preparation_reports(ids["benchmark"] + 1) == []
        logged = tx.list_audit_entries(entity_kind="preparation_report")
        assert [(e.action, e.entity_id) for e in logged] == [
            ("preparation_report.add", str(first.id)), ("preparation_report.add", str(second.id))
        ]  # fmt: skip


def test_a_report_of_a_benchmark_that_does_not_exist_is_not_found(store: Store) -> None:
    with store.transaction() as tx:
        site = make_user(tx, "site")
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.add_preparation_report(site.id, _report(999, 10), NOW)
