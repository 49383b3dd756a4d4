"""The SQL store's part for a phase's quotas, the entry that counts and the committee's
priorities (``quotas_interface``), on ``SqlResultRows``.

As in ``sql``: rows are made by name and read back as records; every change goes through
``_insert`` or ``_change``, so it is audited. A choice of entry changes what its phase's
board shows: it moves the benchmark's results revision on (``sql_results``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select

from medval.core.quotas import QuotaChange
from medval.server.store import models as m
from medval.server.store.phase_models import CountingEntry, Phase
from medval.server.store.quotas_interface import WorkRules
from medval.server.store.records import CountingEntryRecord, PhaseRecord
from medval.server.store.sql_results import SqlResultRows


class SqlQuotaRows(SqlResultRows):
    def set_phase_quotas(self, phase_id: int, quotas: QuotaChange) -> PhaseRecord:
        # A models quota makes its board keep one entry per owner.
        self._changed_boards.add(self._get(Phase, phase_id, "phase").benchmark_id)
        return self._change(
            PhaseRecord, Phase, phase_id, "phase", "quotas", **quotas.model_dump(exclude_unset=True)
        )

    def set_model_priorities(self, phase_id: int, model_ids: Sequence[int]) -> PhaseRecord:
        return self._change(
            PhaseRecord, Phase, phase_id, "phase", "priorities", model_priorities=list(model_ids)
        )

    def work_rules(self, phase_ids: Collection[int]) -> dict[int, WorkRules]:
        if not phase_ids:
            return {}
        query = select(
            Phase.id, Phase.model_priorities, Phase.max_executions_per_site_per_day
        ).where(Phase.id.in_(list(phase_ids)))
        return {
            phase_id: WorkRules(list(order or []), per_day)
            for phase_id, order, per_day in self.session.execute(query)
        }

    def phase_entrants(self, phase_id: int, owner_id: int) -> set[int]:
        query = (
            select(m.Result.model_id)
            .join(m.Cube, m.Cube.id == m.Result.model_id)
            .where(m.Result.phase_id == phase_id, m.Cube.owner_id == owner_id)
            .distinct()
        )
        return set(self.session.scalars(query))

    def uploads_between(
        self, uploader_id: int, phase_ids: Collection[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        counts = dict.fromkeys(phase_ids, 0)
        if not phase_ids:
            return counts
        query = (
            select(m.Result.phase_id, func.count())
            .where(
                m.Result.owner_id == uploader_id,
                m.Result.phase_id.in_(list(phase_ids)),
                m.Result.created_at >= start,
                m.Result.created_at < end,
            )
            .group_by(m.Result.phase_id)
        )
        counts.update({phase_id: n for phase_id, n in self.session.execute(query)})
        return counts

    def choose_counting_entry(
        self, phase_id: int, owner_id: int, model_id: int, now: datetime
    ) -> CountingEntryRecord:
        phase = self._get(Phase, phase_id, "phase")
        self._changed_boards.add(phase.benchmark_id)  # its board counts another entry
        found = self.session.scalar(
            select(CountingEntry.id).where(
                CountingEntry.phase_id == phase_id, CountingEntry.owner_id == owner_id
            )
        )
        if found is not None:
            return self._change(
                CountingEntryRecord, CountingEntry, found, "counting entry", "choose",
                model_id=model_id, chosen_at=now,
            )  # fmt: skip
        row = CountingEntry(phase_id=phase_id, owner_id=owner_id, model_id=model_id, chosen_at=now)
        return CountingEntryRecord.model_validate(self._insert(row, "a counting entry"))

    def counting_entries(self, phase_id: int) -> list[CountingEntryRecord]:
        query = (
            select(CountingEntry)
            .where(CountingEntry.phase_id == phase_id)
            .order_by(CountingEntry.owner_id)
        )
        return self._list(CountingEntryRecord, query)
