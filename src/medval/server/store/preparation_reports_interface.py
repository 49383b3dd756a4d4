"""The store's part for preparation reports. ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; getters return ``None`` for unknown
ids; every addition is appended to the audit log by the store itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from medval.core.paging import Cursor
from medval.core.preparation_report import PreparationReportCreate
from medval.server.store.records import PreparationReportRecord


class PreparationReportTransaction(Protocol):
    def add_preparation_report(
        self, owner_id: int, report: PreparationReportCreate, now: datetime
    ) -> PreparationReportRecord: ...

    def preparation_report(self, report_id: int) -> PreparationReportRecord | None: ...

    def list_preparation_reports(
        self, benchmark_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[PreparationReportRecord]:
        """A benchmark's reports, oldest first."""
        ...
