"""The store's part for benchmarks' phases (issue 19) and their results' publication.
``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; adding a row that breaks a
uniqueness rule raises ``Conflict``; getters return ``None`` for unknown ids; every
change is appended to the audit log by the store itself. The rules of phases (which one
is open, which overlap) are the core's (``core.phases``); the services apply them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from medval.core.phases import PhaseCreate, ResultPublication
from medval.server.store.records import PhaseRecord, ResultRecord


class PhaseTransaction(Protocol):
    def add_phase(self, benchmark_id: int, phase: PhaseCreate, now: datetime) -> PhaseRecord:
        """Conflict when the benchmark has a phase of that name."""
        ...

    def phase(self, phase_id: int) -> PhaseRecord | None: ...
    def phase_by_name(self, benchmark_id: int, name: str) -> PhaseRecord | None: ...
    def list_phases(self, benchmark_id: int) -> list[PhaseRecord]:
        """The benchmark's phases, in the order they open (then by id)."""
        ...

    def close_phase(
        self, phase_id: int, now: datetime, board_json: str, board_hash: str
    ) -> PhaseRecord:
        """Closed at ``now``, its leaderboard archived (canonical JSON, and its hash)."""
        ...

    def set_phase_dates(
        self, phase_id: int, opens_at: datetime, closes_at: datetime | None
    ) -> PhaseRecord:
        """The committee's new dates (``closes_at`` None: no end)."""
        ...

    def archived_board(self, phase_id: int) -> str | None:
        """The leaderboard archived when the phase closed, as stored (None: not closed)."""
        ...

    def set_result_publication(
        self, result_id: int, publication: ResultPublication, reason: str | None
    ) -> ResultRecord:
        """Published or withheld (with the committee's reason) by the committee."""
        ...
