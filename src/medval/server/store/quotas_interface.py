"""The store's part for a phase's quotas, the entry that counts and the committee's
priorities (issue 19, ``core.quotas``). ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; getters return ``None`` or empty
for unknown ids; every change is appended to the audit log by the store itself (a phase's
quotas and priorities as a change of the phase, a choice of entry as its own entity).
The rules (which entry counts by default, what a quota allows) are the core's and the
services'.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from medval.core.quotas import QuotaChange
from medval.server.store.records import CountingEntryRecord, PhaseRecord


class WorkRules(NamedTuple):
    """A phase's rules a site's pending work follows: the committee's order of its models
    (empty: none) and the site's daily quota of uploads (None: no limit)."""

    model_priorities: list[int]
    max_executions_per_site_per_day: int | None


class QuotaTransaction(Protocol):
    def set_phase_quotas(self, phase_id: int, quotas: QuotaChange) -> PhaseRecord:
        """The quotas ``quotas`` sets (its unset fields: left as they are; None: no limit)."""
        ...

    def set_model_priorities(self, phase_id: int, model_ids: Sequence[int]) -> PhaseRecord:
        """The committee's order of the phase's models, most important first."""
        ...

    def work_rules(self, phase_ids: Collection[int]) -> dict[int, WorkRules]:
        """What a site's pending work reads of each phase, by id, in one query."""
        ...

    def phase_entrants(self, phase_id: int, owner_id: int) -> set[int]:
        """The owner's models with a result in the phase, whatever its publication."""
        ...

    def uploads_between(
        self, uploader_id: int, phase_ids: Collection[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        """How many results ``uploader_id`` uploaded (or uploaded again) in each phase in
        [start, end), by phase id (a phase with none: 0)."""
        ...

    def choose_counting_entry(
        self, phase_id: int, owner_id: int, model_id: int, now: datetime
    ) -> CountingEntryRecord:
        """The owner's entry that counts in the phase, chosen (again) ``now``."""
        ...

    def counting_entries(self, phase_id: int) -> list[CountingEntryRecord]:
        """The choices made in the phase, by owner id."""
        ...
