"""The table of preparation reports (issue 18): what a site sent of how far its preparation
workflow got, counts only, for the benchmark's owner to see where sites are stuck.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.preparation_report``, shown. A report never names a case;
what a data owner withheld is stored as withheld (NULL), never filled in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from medval.core.preparation_report import StepReport
from medval.server.store.column_types import JsonDocument
from medval.server.store.model_base import Base, Owned


class PreparationReport(Owned, Base):
    """One report as sent; a site sends as many as it likes (each is a new row)."""

    __tablename__ = "preparation_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(
        ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True
    )
    dataset: Mapped[str] = mapped_column(String(80))
    min_cell_count: Mapped[int]
    cases: Mapped[int | None] = mapped_column(default=None)
    excluded: Mapped[int | None] = mapped_column(default=None)
    steps: Mapped[list[StepReport]] = mapped_column(JsonDocument(list[StepReport]))
    withheld: Mapped[list[str]] = mapped_column(JsonDocument(list[str]))
    created_at: Mapped[datetime]
