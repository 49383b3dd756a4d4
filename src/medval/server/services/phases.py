"""A benchmark's phases (issue 19): which one a result belongs to, and the committee's
phases: added, listed, shown, their dates changed, closed (its leaderboard archived with
its content hash).

The committee is the benchmark's owner; an admin may act for it. The rules that only need
the phases are the core's (``core.phases``); here, what needs the store. Every add and
change of dates and close is logged by the store (``phase.add``, ``phase.edit``,
``phase.close``).
"""

from __future__ import annotations

from datetime import datetime

from medval.core.errors import Conflict, InvalidInput, InvalidTransition
from medval.core.phases import (
    PhaseCreate,
    PhaseDates,
    PhaseShown,
    ResultPublication,
    ends_at,
    overlapping,
    phase_open_at,
    shown,
)
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.blob_use import require_usable_blob
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.leaderboard import live_leaderboard
from medval.server.services.permissions import require_owner_or_admin
from medval.server.services.phase_boards import named_phase
from medval.server.services.validity import require_valid_cube
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, PhaseRecord, UserRecord
from medval.trust.archived_boards import archive_form


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
        when = f" on {_day(ended)}" if ended is not None else ""
        raise InvalidTransition(
            f"phase {last.name} of benchmark {benchmark.name} closed{when}: it takes no new "
            "results, and no other phase is open"
        )
    upcoming = f"; phase {phases[0].name} opens on {_day(phases[0].opens_at)}" if phases else ""
    raise InvalidTransition(f"benchmark {benchmark.name} has no phase open yet{upcoming}")


def _day(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def committee_benchmark(
    tx: StoreTransaction, caller: UserRecord, benchmark_id: int
) -> BenchmarkRecord:
    """The benchmark, if the caller is its committee (its owner) or an admin."""
    benchmark = visible_benchmark(tx, caller, benchmark_id)
    require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
    return benchmark


def add_phase(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, body: PhaseCreate
) -> PhaseRecord:
    """A new phase: its dates overlap no other phase of the benchmark; its own cubes, if
    any, are of the right kind and valid; its own demo data, if any, the caller's to use.
    Its own reference model joins the benchmark approved, as the benchmark's did."""
    now = ctx.clock()
    with ctx.transaction(caller) as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        if tx.phase_by_name(benchmark.id, body.name) is not None:
            raise Conflict(f"benchmark {benchmark.name} already has a phase named {body.name}")
        clash = overlapping(tx.list_phases(benchmark.id), body.opens_at, body.closes_at)
        if clash is not None:
            raise Conflict(
                f"phase {body.name} ({_span(body.opens_at, body.closes_at)}) overlaps phase "
                f"{clash.name} ({_span(clash.opens_at, ends_at(clash))}) of benchmark "
                f"{benchmark.name}"
            )
        if body.evaluator_id is not None:
            evaluator = cube_of_kind(tx, caller, body.evaluator_id, CubeKind.EVALUATOR, "evaluator")
            require_valid_cube(evaluator)
        if body.reference_model_id is not None:
            model = cube_of_kind(
                tx, caller, body.reference_model_id, CubeKind.MODEL, "reference model"
            )
            require_valid_cube(model)
            _approve_reference_model(tx, caller, benchmark, model.id, now)
        if body.demo_data_hash is not None:
            require_usable_blob(ctx, tx, caller, body.demo_data_hash, "demo data")
        return tx.add_phase(benchmark.id, body, now)


def edit_phase(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, name: str, body: PhaseDates
) -> PhaseRecord:
    """The committee's new dates for a phase (e.g. its end extended), by the rules of a
    new phase's (it closes after it opens, overlaps no other phase); a closed phase is
    frozen, and no result already uploaded in it falls outside its new dates."""
    with ctx.transaction(caller) as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        phase = named_phase(tx, benchmark, name)
        what = f"phase {phase.name} of benchmark {benchmark.name}"
        if phase.closed_at is not None:
            raise InvalidTransition(
                f"{what} was closed on {_day(phase.closed_at)}: it is frozen, its dates too"
            )
        given = body.model_fields_set
        opens_at = body.opens_at if body.opens_at is not None else phase.opens_at
        closes_at = body.closes_at if "closes_at" in given else phase.closes_at
        if closes_at is not None and closes_at <= opens_at:
            raise InvalidInput(
                f"phase {phase.name} closes ({closes_at.isoformat()}) before it opens "
                f"({opens_at.isoformat()})"
            )
        others = [p for p in tx.list_phases(benchmark.id) if p.id != phase.id]
        clash = overlapping(others, opens_at, closes_at)
        if clash is not None:
            raise Conflict(
                f"phase {phase.name} ({_span(opens_at, closes_at)}) overlaps phase "
                f"{clash.name} ({_span(clash.opens_at, ends_at(clash))}) of benchmark "
                f"{benchmark.name}"
            )
        sent = [r.created_at for r in tx.list_results(benchmark.id, phase_id=phase.id)]
        if sent and opens_at > min(sent):
            raise InvalidTransition(
                f"{what} has a result uploaded on {_day(min(sent))}: it cannot open after that"
            )
        if sent and closes_at is not None and closes_at <= max(sent):
            raise InvalidTransition(
                f"{what} has a result uploaded on {_day(max(sent))}: it cannot close before that"
            )
        return tx.set_phase_dates(phase.id, opens_at, closes_at)


def _span(opens_at: datetime, ends: datetime | None) -> str:
    return f"{opens_at:%Y-%m-%d} to {ends:%Y-%m-%d}" if ends else f"from {opens_at:%Y-%m-%d}"


def _approve_reference_model(
    tx: StoreTransaction,
    caller: UserRecord,
    benchmark: BenchmarkRecord,
    model_id: int,
    now: datetime,
) -> None:
    """A reference model is part of the phase's definition: it needs no request."""
    if tx.association_standing(benchmark.id, AssociationKind.MODEL, model_id) is not None:
        return
    association = tx.add_association(benchmark.id, AssociationKind.MODEL, model_id, caller.id, now)
    tx.decide_association(association.id, ApprovalStatus.APPROVED, caller.id, now)


def list_phases(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int
) -> list[PhaseShown]:
    """Whoever may see the benchmark sees its phases (their dates are its calendar), each
    with where it stands now (one past its end but not closed says so: ``ended``)."""
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        return [shown(phase, now) for phase in tx.list_phases(benchmark.id)]


def get_phase(
    ctx: ServiceContext, caller: UserRecord | None, benchmark_id: int, name: str
) -> PhaseShown:
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        return shown(named_phase(tx, visible_benchmark(tx, caller, benchmark_id), name), now)


def close_phase(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, name: str
) -> PhaseRecord:
    """Closed now, for good: it takes no more results, and its leaderboard (as released
    to the public) is archived with the content hash of its canonical JSON."""
    now = ctx.clock()
    with ctx.transaction(caller) as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        phase = named_phase(tx, benchmark, name)
        if phase.closed_at is not None:
            raise InvalidTransition(
                f"phase {phase.name} of benchmark {benchmark.name} was closed on "
                f"{_day(phase.closed_at)} already"
            )
        held = [
            r.id
            for r in tx.list_results(benchmark.id, phase_id=phase.id)
            if r.publication is ResultPublication.HELD
        ]
        if held:
            raise InvalidTransition(
                f"phase {phase.name} of benchmark {benchmark.name} has {len(held)} held "
                f"result(s) ({', '.join(map(str, held[:5]))}{'…' if len(held) > 5 else ''}): "
                "publish or withhold each before closing it"
            )
        board = live_leaderboard(ctx, tx, None, benchmark, phase, with_sites=False)
        archived, digest = archive_form(board.model_copy(update={"phase_closed_at": now}))
        return tx.close_phase(phase.id, now, archived, digest)
