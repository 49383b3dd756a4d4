"""The table of benchmarks' phases (issue 19): each phase's dates, its own cubes and demo
data if any, its publication mode, and, once closed, its archived leaderboard.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.phases``, shown. The archived board itself (``board_json``,
canonical JSON) is not in ``PhasePublic``: it is read on its own
(``StoreTransaction.archived_board``), and its hash (``board_hash``) is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medval.core.phases import PublicationMode
from medval.server.store.column_types import JsonDocument
from medval.server.store.model_base import Base, Owned

if TYPE_CHECKING:
    from medval.server.store.models import Cube


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
    # Its quotas (core.quotas; NULL: no limit) and the committee's order of its models.
    max_models_per_owner: Mapped[int | None] = mapped_column(default=None)
    max_executions_per_site_per_day: Mapped[int | None] = mapped_column(default=None)
    model_priorities: Mapped[list[int]] = mapped_column(
        JsonDocument(list[int], when_null=list), nullable=True, default=list
    )


class CountingEntry(Owned, Base):
    """A model owner's choice of the entry (a model of its) that counts on a phase's
    board (core.quotas); none chosen, the entry approved first counts."""

    __tablename__ = "counting_entries"
    __table_args__ = (UniqueConstraint("phase_id", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    chosen_at: Mapped[datetime]
    phase_entity: Mapped[Phase] = relationship(lazy="joined")
    model_cube: Mapped[Cube] = relationship(lazy="joined")
    phase: AssociationProxy[str] = association_proxy("phase_entity", "name")
    model: AssociationProxy[str] = association_proxy("model_cube", "name")
