"""Each phase's leaderboard (issue 19): which phase a board is asked of, and the board
of a closed phase, archived when it closed and stored with its content hash.

The archive is the board as released to the public (no caller: no per-site figure, and
nothing below min_sites), in canonical JSON with its content hash
(``trust.archived_boards``): anyone holding the board can check it.
"""

from __future__ import annotations

from datetime import datetime

from medval.core.errors import InvalidTransition, NotFound
from medval.core.phases import latest, phase_open_at
from medval.core.result_schemas import LeaderboardPublic
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, PhaseRecord


def board_phase(
    tx: StoreTransaction, benchmark: BenchmarkRecord, name: str | None, now: datetime
) -> PhaseRecord:
    """Phase ``name`` of the benchmark; None: the one open now, else the last to open."""
    if name is not None:
        return named_phase(tx, benchmark, name)
    phases = tx.list_phases(benchmark.id)
    found = phase_open_at(phases, now) or latest(phases)
    if found is None:  # every benchmark has a phase (the store adds its first)
        raise NotFound(f"benchmark {benchmark.name} has no phase")
    return found


def named_phase(tx: StoreTransaction, benchmark: BenchmarkRecord, name: str) -> PhaseRecord:
    found = tx.phase_by_name(benchmark.id, name)
    if found is None:
        names = ", ".join(p.name for p in tx.list_phases(benchmark.id))
        raise NotFound(f"benchmark {benchmark.name} has no phase {name!r} (its phases: {names})")
    return found


def archived_leaderboard(tx: StoreTransaction, phase: PhaseRecord) -> LeaderboardPublic:
    """A closed phase's board as archived, with its hash."""
    stored = tx.archived_board(phase.id)
    if stored is None:
        raise InvalidTransition(f"phase {phase.name} has no archived leaderboard")
    board = LeaderboardPublic.model_validate_json(stored)
    return board.model_copy(update={"archived_hash": phase.board_hash})
