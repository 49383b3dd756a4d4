"""Each phase's leaderboard (issue 19): which phase a board is asked of, and the board
of a closed phase, archived when it closed and stored with its content hash.

The archive is the board as released to the public (no caller: no per-site figure, and
nothing below min_sites), as canonical JSON (RFC 8785); its hash is the sha256 of that,
``trust.audit_chain.content_hash``, as every content hash of the server. Anyone holding
the board can check it: :func:`board_hash` of the board with ``archived_hash`` null.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import rfc8785

from medval.core.errors import InvalidTransition, NotFound
from medval.core.phases import latest, phase_open_at
from medval.core.result_schemas import LeaderboardPublic
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, PhaseRecord
from medval.trust.audit_chain import content_hash


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


def board_hash(board: LeaderboardPublic) -> str:
    """The content hash of a board as archived (its ``archived_hash`` left out)."""
    return content_hash(_archived_form(board))


def archive_form(board: LeaderboardPublic) -> tuple[str, str]:
    """The board as stored when its phase closes (canonical JSON text), and its hash."""
    document = _archived_form(board)
    return rfc8785.dumps(document).decode(), content_hash(document)


def _archived_form(board: LeaderboardPublic) -> Any:
    # Through pydantic's JSON: NaN and infinities become null, as the API sends them.
    return json.loads(board.model_copy(update={"archived_hash": None}).model_dump_json())


def archived_leaderboard(tx: StoreTransaction, phase: PhaseRecord) -> LeaderboardPublic:
    """A closed phase's board as archived, with its hash."""
    stored = tx.archived_board(phase.id)
    if stored is None:
        raise InvalidTransition(f"phase {phase.name} has no archived leaderboard")
    board = LeaderboardPublic.model_validate_json(stored)
    return board.model_copy(update={"archived_hash": phase.board_hash})
