"""The SQL store's part for preparation reports (``preparation_reports_interface``), on
``SqlRows``: rows read back as records, every addition touched for the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from medval.core.paging import Cursor
from medval.core.preparation_report import PreparationReportCreate
from medval.server.store import preparation_report_models as p
from medval.server.store.records import PreparationReportRecord
from medval.server.store.sql_rows import SqlRows, paged


class SqlPreparationReportRows(SqlRows):
    def add_preparation_report(
        self, owner_id: int, report: PreparationReportCreate, now: datetime
    ) -> PreparationReportRecord:
        row = p.PreparationReport(**dict(report), owner_id=owner_id, created_at=now)
        what = f"a preparation report of benchmark {report.benchmark_id}"
        return PreparationReportRecord.model_validate(self._insert(row, what))

    def preparation_report(self, report_id: int) -> PreparationReportRecord | None:
        row = self.session.get(p.PreparationReport, report_id)
        return PreparationReportRecord.model_validate(row) if row is not None else None

    def list_preparation_reports(
        self, benchmark_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[PreparationReportRecord]:
        query = select(p.PreparationReport).where(p.PreparationReport.benchmark_id == benchmark_id)
        return self._list(
            PreparationReportRecord, paged(query, [p.PreparationReport.id], after, limit)
        )
