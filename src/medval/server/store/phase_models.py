"""The table of benchmarks' phases (issue 19): each phase's dates, its own cubes and demo
data if any, its publication mode, and, once closed, its archived leaderboard.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.phases``, shown. The archived board itself (``board_json``,
canonical JSON) is not in ``PhasePublic``: it is read on its own
(``StoreTransaction.archived_board``), and its hash (``board_hash``) is shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medval.core.phases import PublicationMode
from medval.server.store.model_base import Base


class Phase(Base):
    """One phase of a benchmark; results point at the phase they were uploaded in."""

    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("benchmark_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(
        ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    # NULL: the benchmark's own.
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("cubes.id"), default=None)
    reference_model_id: Mapped[int | None] = mapped_column(ForeignKey("cubes.id"), default=None)
    demo_data_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    publication: Mapped[PublicationMode] = mapped_column(
        server_default=PublicationMode.AUTOMATIC.value
    )
    created_at: Mapped[datetime]
    # Set once, when the committee closes it: from then on frozen.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    board_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    board_json: Mapped[str | None] = mapped_column(Text, default=None)
