"""``medval benchmark phase``: a benchmark's phases (issue 19), run by its committee (the
benchmark's owner; an admin too): add one, list them, show one (with its archived
leaderboard's hash, checked), change one's dates, close one. (The committee's decision
on a held result: ``cli.publication``.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption, validated
from medval.cli.render import columns, record_table
from medval.client.audit_log import record
from medval.core.errors import HashMismatch, InvalidInput
from medval.core.phases import (
    PhaseCreate,
    PhaseDates,
    PhasePublic,
    PhaseShown,
    PhaseState,
    PublicationMode,
    phase_time,
)

phase_app = typer.Typer(
    help="A benchmark's phases: each with its dates, its own leaderboard, its publication.",
    no_args_is_help=True,
)

PHASE_COLUMNS = columns(
    PhasePublic, "id", "name", "opens_at", "closes_at", "publication", "closed_at", "board_hash"
)
LISTED_COLUMNS = columns(
    PhaseShown, "id", "name", "state", "opens_at", "closes_at", "publication", "closed_at"
)


def ended_not_closed(phase: PhaseShown) -> str | None:
    """The line that says so of a phase past its end that the committee has not closed:
    it takes no results, but its board is live, not archived (never closed for it, as a
    held result may still be published after the end)."""
    if phase.state is not PhaseState.ENDED or phase.closes_at is None:
        return None
    return (
        f"phase {phase.name} ended on {phase.closes_at:%Y-%m-%d %H:%M} UTC, not closed: close "
        "it to archive its leaderboard (until then its board is live, not archived)"
    )


@phase_app.command("add")
def add(
    ctx: typer.Context,
    benchmark_id: int,
    name: str,
    opens: str | None = typer.Option(
        None, "--opens", help="ISO date (UTC midnight) or date and time; default: now."
    ),
    closes: str | None = typer.Option(
        None, "--closes", help="ISO date or date and time; default: open until closed."
    ),
    evaluator_id: int | None = typer.Option(
        None, "--evaluator", help="Cube id; default: the benchmark's."
    ),
    reference_model_id: int | None = typer.Option(
        None, "--reference-model", help="Cube id; default: the benchmark's."
    ),
    demo_data_hash: str | None = typer.Option(
        None, "--demo-data-hash", help="sha256 of uploaded demo data; default: the benchmark's."
    ),
    models: int | None = typer.Option(
        None,
        "--models",
        help="How many models one model owner may enter into the phase (default: no limit).",
    ),
    executions_per_day: int | None = typer.Option(
        None,
        "--executions-per-day",
        help="How many results one site may upload per UTC day in the phase (default: no limit).",
    ),
    held: bool = typer.Option(
        False,
        "--held",
        help="Hold each result for the committee to publish or withhold (default: released "
        "by the benchmark's release policy).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Add a phase to your benchmark; its dates may not overlap another phase's."""
    session: Session = ctx.obj
    body = validated(
        PhaseCreate,
        name=name,
        opens_at=phase_time(opens, "--opens") if opens is not None else datetime.now(UTC),
        closes_at=phase_time(closes, "--closes") if closes is not None else None,
        evaluator_id=evaluator_id,
        reference_model_id=reference_model_id,
        demo_data_hash=demo_data_hash,
        publication=PublicationMode.HELD if held else PublicationMode.AUTOMATIC,
        max_models_per_owner=models,
        max_executions_per_site_per_day=executions_per_day,
    )
    with session.client() as client:
        phase = client.phases.add(benchmark_id, body)
    record(session.audit_log(), "added", "phase", str(phase.id), phase)
    session.show(phase, fmt, PHASE_COLUMNS)


@phase_app.command("list")
def list_phases(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """The benchmark's phases, in the order they open, each with its state: upcoming,
    open, ended (past its end date, not closed: its leaderboard is not archived until the
    committee closes it) or closed."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        phases = client.phases.list(benchmark_id)
    session.show(phases, fmt, LISTED_COLUMNS, "phases")
    for line in filter(None, map(ended_not_closed, phases)):
        session.err.print(line)


@phase_app.command("show")
def show(
    ctx: typer.Context, benchmark_id: int, name: str, fmt: OutputFormat = FormatOption
) -> None:
    """One phase, with its state (see list); a closed one with its archived leaderboard's
    content hash, checked against the archived board the server sends (a mismatch:
    exit 6)."""
    from medval.trust.archived_boards import board_hash

    session: Session = ctx.obj
    with session.anonymous_client() as client:
        phase = client.phases.get(benchmark_id, name)
        if phase.closed_at is not None and phase.board_hash is not None:
            board = client.leaderboard(benchmark_id, phase=name)
            recomputed = board_hash(board)
            if recomputed != phase.board_hash:
                raise HashMismatch(
                    f"the archived leaderboard of phase {name} hashes to {recomputed}, not "
                    f"{phase.board_hash} as recorded when it closed"
                )

    def table() -> None:
        session.out.print(record_table(phase))
        line = ended_not_closed(phase)
        if line is not None:
            session.err.print(line)
        if phase.board_hash is not None:
            session.err.print(f"archived leaderboard: sha256 {phase.board_hash} (verified)")

    session.render(fmt, phase, table)


@phase_app.command("edit")
def edit(
    ctx: typer.Context,
    benchmark_id: int,
    name: str,
    opens: str | None = typer.Option(
        None, "--opens", help="New opening: ISO date (UTC midnight) or date and time."
    ),
    closes: str | None = typer.Option(
        None, "--closes", help="New end: ISO date or date and time (e.g. the end extended)."
    ),
    no_end: bool = typer.Option(
        False, "--no-end", help="No end date: open until the committee closes it."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Change a phase's dates (a date not given stays), by the rules of phase add: they
    overlap no other phase, it closes after it opens. A closed phase's dates are frozen;
    a phase cannot open after, nor close before, a result already uploaded in it."""
    session: Session = ctx.obj
    if closes is not None and no_end:
        raise InvalidInput("give --closes or --no-end, not both")
    dates: dict[str, datetime | None] = {}
    if opens is not None:
        dates["opens_at"] = phase_time(opens, "--opens")
    if closes is not None or no_end:
        dates["closes_at"] = phase_time(closes, "--closes") if closes is not None else None
    body = validated(PhaseDates, **dates)
    with session.client() as client:
        phase = client.phases.edit(benchmark_id, name, body)
    record(session.audit_log(), "edited", "phase", str(phase.id), phase)
    session.show(phase, fmt, PHASE_COLUMNS)


@phase_app.command("close")
def close(
    ctx: typer.Context,
    benchmark_id: int,
    name: str,
    yes: bool = YesOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Close a phase for good: no new results; its leaderboard archived with its hash."""
    session: Session = ctx.obj
    with session.client() as client:
        session.confirm(f"Close phase {name} of benchmark {benchmark_id} for good?", yes)
        phase = client.phases.close(benchmark_id, name)
    record(session.audit_log(), "closed", "phase", str(phase.id), phase)
    session.show(phase, fmt, PHASE_COLUMNS)
    session.err.print(
        f"phase {phase.name} is closed; leaderboard archived, sha256 {phase.board_hash}"
    )


def register(benchmark_app: typer.Typer) -> None:
    benchmark_app.add_typer(phase_app, name="phase")
