"""The SQL store's part for benchmarks' phases and their results' publication
(``phases_interface``), on ``SqlRows``.

As in ``sql``: rows are made by name and read back as records; every change goes through
``_insert`` or ``_change``, so it is audited. A benchmark's first phase is added with the
benchmark (``sql.SqlTransaction.add_benchmark`` calls ``add_default_phase``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from medval.core.phases import DEFAULT_PHASE, PhaseCreate, PublicationMode, ResultPublication
from medval.server.store import models as m
from medval.server.store.phase_models import Phase
from medval.server.store.records import PhaseRecord, ResultRecord
from medval.server.store.sql_results import SqlResultRows


class SqlPhaseRows(SqlResultRows):
    """On the results' part: a publication changes what a board shows of them."""

    def add_phase(self, benchmark_id: int, phase: PhaseCreate, now: datetime) -> PhaseRecord:
        row = Phase(**dict(phase), benchmark_id=benchmark_id, created_at=now)
        what = f"a phase named {phase.name!r} of this benchmark"
        return PhaseRecord.model_validate(self._insert(row, what))

    def add_default_phase(self, benchmark_id: int, now: datetime) -> PhaseRecord:
        """The phase a benchmark is registered with: open from ``now``, with no end."""
        return self.add_phase(
            benchmark_id,
            PhaseCreate(name=DEFAULT_PHASE, opens_at=now, publication=PublicationMode.AUTOMATIC),
            now,
        )

    def phase(self, phase_id: int) -> PhaseRecord | None:
        return self._find(PhaseRecord, Phase, phase_id)

    def phase_by_name(self, benchmark_id: int, name: str) -> PhaseRecord | None:
        row = self.session.scalar(
            select(Phase).where(Phase.benchmark_id == benchmark_id, Phase.name == name)
        )
        return PhaseRecord.model_validate(row) if row is not None else None

    def list_phases(self, benchmark_id: int) -> list[PhaseRecord]:
        query = (
            select(Phase)
            .where(Phase.benchmark_id == benchmark_id)
            .order_by(Phase.opens_at, Phase.id)
        )
        return self._list(PhaseRecord, query)

    def close_phase(
        self, phase_id: int, now: datetime, board_json: str, board_hash: str
    ) -> PhaseRecord:
        return self._change(
            PhaseRecord, Phase, phase_id, "phase", "close",
            closed_at=now, board_json=board_json, board_hash=board_hash,
        )  # fmt: skip

    def set_phase_dates(
        self, phase_id: int, opens_at: datetime, closes_at: datetime | None
    ) -> PhaseRecord:
        return self._change(
            PhaseRecord, Phase, phase_id, "phase", "edit", opens_at=opens_at, closes_at=closes_at
        )

    def archived_board(self, phase_id: int) -> str | None:
        return self.session.scalar(select(Phase.board_json).where(Phase.id == phase_id))

    def set_result_publication(
        self, result_id: int, publication: ResultPublication, reason: str | None
    ) -> ResultRecord:
        row = self._get(m.Result, result_id, "result")
        self._changed_boards.add(row.benchmark_id)  # a board shows what is published
        action = "publish" if publication is ResultPublication.PUBLISHED else "withhold"
        return self._change(
            ResultRecord, m.Result, result_id, "result", action,
            publication=publication, publication_reason=reason,
        )  # fmt: skip
