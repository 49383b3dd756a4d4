"""``medval benchmark quota``, ``medval benchmark priorities`` and ``medval benchmark
entry choose`` (issue 19): a phase's quotas and its models' order, set by its committee
(the benchmark's owner; an admin too), and a model owner's entry that counts on the
phase's board. What they stop: a vendor tuning its model to the hospitals' hidden data by
sending variant after variant until one does well.
"""

from __future__ import annotations

from typing import Any

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, validated
from medval.cli.render import columns
from medval.client.audit_log import record
from medval.client.quotas_http import QuotaCalls
from medval.core.errors import InvalidInput
from medval.core.phases import PhasePublic
from medval.core.quotas import CountingEntryChoice, ModelPriorities, QuotaChange

QUOTA_COLUMNS = columns(
    PhasePublic, "id", "name", "max_models_per_owner", "max_executions_per_site_per_day"
)
PRIORITY_COLUMNS = columns(PhasePublic, "id", "name", "model_priorities")

entry_app = typer.Typer(
    help="A model owner's entries in a benchmark's phase: which one counts.",
    no_args_is_help=True,
)

PhaseOption = typer.Option(None, "--phase", help="The phase's name; default: the one open now.")


def _quota(text: str | None, option: str) -> int | None:
    """A quota as given: a count, or ``none`` (no limit)."""
    if text is None or text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            f"{option} is a count (0 or more) or 'none' (no limit), not {text[:40]!r}"
        ) from None


def quota(
    ctx: typer.Context,
    benchmark_id: int,
    phase: str,
    models: str | None = typer.Option(
        None,
        "--models",
        metavar="N|none",
        help="How many models one model owner may enter into the phase (none: no limit).",
    ),
    executions_per_day: str | None = typer.Option(
        None,
        "--executions-per-day",
        metavar="N|none",
        help="How many results one site (a dataset owner) may upload per UTC day in the "
        "phase (none: no limit).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Set a phase's quotas (the committee); an option left out keeps its quota. Entries
    and uploads made before stay; the quota applies to the next ones."""
    session: Session = ctx.obj
    given: dict[str, Any] = {}
    if models is not None:
        given["max_models_per_owner"] = _quota(models, "--models")
    if executions_per_day is not None:
        given["max_executions_per_site_per_day"] = _quota(
            executions_per_day, "--executions-per-day"
        )
    if not given:
        raise InvalidInput("give --models, --executions-per-day or both")
    body = validated(QuotaChange, **given)
    with session.client() as client:
        changed = QuotaCalls(client).set_quotas(benchmark_id, phase, body)
    record(session.audit_log(), "quotas", "phase", str(changed.id), changed)
    session.show(changed, fmt, QUOTA_COLUMNS)


def priorities(
    ctx: typer.Context,
    benchmark_id: int,
    model_ids: list[int] = typer.Argument(
        ..., help="The phase's models, most important first (model IDs)."
    ),
    phase: str | None = PhaseOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Order a phase's models (the committee): each site's 'medval run' runs them in this
    order, the models not named after them, so a site with one night of compute runs the
    important ones first. Given again, the new order replaces the old one."""
    session: Session = ctx.obj
    body = validated(ModelPriorities, model_ids=model_ids, phase=phase)
    with session.client() as client:
        changed = QuotaCalls(client).set_priorities(benchmark_id, body)
    record(session.audit_log(), "priorities", "phase", str(changed.id), changed)
    session.show(changed, fmt, PRIORITY_COLUMNS)


@entry_app.command("choose")
def choose(
    ctx: typer.Context,
    benchmark_id: int,
    model_id: int,
    phase: str | None = PhaseOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Choose which of your models entered in the phase counts on its leaderboard (the
    others stay off it; the board says how many entries you made). Until you choose, the
    entry approved first counts. Choose (or change) it before any of your entries has a
    result in the phase: once one has, the choice stands (exit 5)."""
    session: Session = ctx.obj
    body = validated(CountingEntryChoice, model_id=model_id, phase=phase)
    with session.client() as client:
        chosen = QuotaCalls(client).choose_entry(benchmark_id, body)
    record(session.audit_log(), "chose", "counting_entry", f"{chosen.phase_id}", chosen)
    session.show(chosen, fmt)


def register(benchmark_app: typer.Typer) -> None:
    benchmark_app.command("quota")(quota)
    benchmark_app.command("priorities")(priorities)
    benchmark_app.add_typer(entry_app, name="entry")
