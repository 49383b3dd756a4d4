"""A benchmark's phases (issue 19): which one a result belongs to, and the committee's
phases: added, listed, shown, closed (its leaderboard archived with its content hash).

The rules that only need the phases are the core's (``core.phases``); here, what needs
the store: the benchmark's phases, its committee (its owner; an admin too), the audit
log (every add and close is logged by the store).
"""

from __future__ import annotations

from datetime import datetime

from medval.core.errors import InvalidTransition
from medval.core.phases import ends_at, phase_open_at
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, PhaseRecord


def open_phase(tx: StoreTransaction, benchmark: BenchmarkRecord, now: datetime) -> PhaseRecord:
    """The benchmark's phase open at ``now``, which a result uploaded now belongs to;
    none open, one line saying why: the last phase closed, or the next not open yet."""
    phases = tx.list_phases(benchmark.id)
    found = phase_open_at(phases, now)
    if found is not None:
        return found
    began = [phase for phase in phases if phase.opens_at <= now]
    if began:
        last = began[-1]
        ended = ends_at(last)
        when = f" on {ended:%Y-%m-%d %H:%M} UTC" if ended is not None else ""
        raise InvalidTransition(
            f"phase {last.name} of benchmark {benchmark.name} closed{when}: it takes no new "
            "results, and no other phase is open"
        )
    upcoming = f"; phase {phases[0].name} opens on {phases[0].opens_at:%Y-%m-%d %H:%M} UTC"
    raise InvalidTransition(
        f"benchmark {benchmark.name} has no phase open yet{upcoming if phases else ''}"
    )
