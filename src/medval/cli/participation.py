"""``medval benchmark expect|expected|unexpect|participation|export``: a benchmark
committee's expected sites, its view of how far each site got, and its tables as CSV; and
``medval users institution``, an admin putting an account in an institution."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.cli.render import cell, columns, rows_table
from medval.client.participation import (
    PARTICIPATION_COLUMNS,
    check_new_file,
    participation_rows,
    set_institution,
    site_to_expect,
    table_header,
    table_rows,
    write_new_file,
)
from medval.core.participation_schemas import (
    BenchmarkParticipation,
    ExpectedSitePublic,
    ExportTable,
)

EXPECTED_COLUMNS = columns(ExpectedSitePublic, "id", "kind", "name", "added_by", "created_at")
UserOption = typer.Option(None, "--user", help="An account, by its username.")
InstitutionOption = typer.Option(
    None, "--institution", help="Every account an admin put in this institution."
)


def expect(
    ctx: typer.Context,
    benchmark_id: int,
    user: str | None = UserOption,
    institution: str | None = InstitutionOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Expect a site on the benchmark (its owner, or an admin): its datasets' requests to
    join are then approved at once, each audited as approved because the site is expected."""
    session: Session = ctx.obj
    site = site_to_expect(user, institution)
    with session.client() as client:
        added = client.participation.expect(benchmark_id, site)
    session.render(
        fmt,
        added,
        lambda: session.note(f"benchmark {benchmark_id} expects {added.kind.value} {added.name}"),
    )


def expected(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """The sites the benchmark expects (its owner, or an admin)."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.participation.expected_sites(benchmark_id)
    session.show(rows, fmt, EXPECTED_COLUMNS, "expected sites")


def unexpect(
    ctx: typer.Context,
    benchmark_id: int,
    user: str | None = UserOption,
    institution: str | None = InstitutionOption,
) -> None:
    """No longer expect a site (its owner, or an admin). Only the expectation goes: what
    was approved while it held stays approved."""
    session: Session = ctx.obj
    site = site_to_expect(user, institution)
    with session.client() as client:
        removed = client.participation.unexpect(benchmark_id, site)
    session.note(f"benchmark {benchmark_id} no longer expects {removed.kind.value} {removed.name}")


def participation(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """For each expected site (and each site that joined unexpected): joined, prepared,
    which models ran, the results sent, and since when it has been waiting (the
    benchmark's owner, or an admin). Names, dates and counts only: no patient data.

    --format csv: one row per site (the columns of ``medval benchmark export``)."""
    session: Session = ctx.obj
    with session.client() as client:
        view = client.participation.participation(benchmark_id)
    session.render(
        fmt,
        view,
        lambda: _print_participation(session, view),
        lambda: participation_rows(view),
        PARTICIPATION_COLUMNS,
    )


_SHOWN = (
    "kind",
    "name",
    "expected",
    "joined",
    "prepared",
    "datasets",
    "models_run",
    "results_sent",
    "last_result_at",
    "waiting_for",
    "waiting_since",
)


def _print_participation(session: Session, view: BenchmarkParticipation) -> None:
    if not view.sites:
        session.out.print(f"(no site expected or joined on {view.benchmark})", markup=False)
        return
    table = rows_table([], _SHOWN, f"participation in {view.benchmark}")
    for row in participation_rows(view):
        shown = {**row, "datasets": ", ".join(row["datasets"]) or None}
        shown["models_run"] = ", ".join(row["models_run"]) or None
        table.add_row(*(cell(shown[name]) for name in _SHOWN))
    session.out.print(table)


def export(
    ctx: typer.Context,
    benchmark_id: int,
    table: ExportTable = typer.Option(..., "--table", help="participation or results."),
    output: Path = typer.Option(..., "--output", "-o", help="The CSV file to write."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
) -> None:
    """Write a table of the benchmark as CSV (its owner, or an admin): its participation
    (one row per site), or its released results (one row per result, as the leaderboard
    shows each site's: model, dataset and site, metrics, dates; never per-case data)."""
    from medval.cli.csv_output import write_csv

    session: Session = ctx.obj
    check_new_file(output, force)  # before asking the server anything
    with session.client() as client:
        rows = table_rows(client, benchmark_id, table)
    written = write_new_file(output, force, lambda out: write_csv(out, rows, table_header(table)))
    session.note(
        f"wrote {len(rows)} row(s) of {table.value} of benchmark {benchmark_id} to {written}"
    )


def institution(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    name: str | None = typer.Argument(None, help="The institution; none to take it out."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Put an account in an institution, or in none (admins). A committee may expect an
    institution: every account in it."""
    session: Session = ctx.obj
    with session.client() as client:
        user = set_institution(client, username, name)
    where = f"in {user.institution}" if user.institution else "in no institution"
    session.render(fmt, user, lambda: session.note(f"{user.username} is {where}"))


def register(app: typer.Typer) -> None:
    app.command("expect")(expect)
    app.command("expected")(expected)
    app.command("unexpect")(unexpect)
    app.command("participation")(participation)
    app.command("export")(export)


def register_users(users_app: typer.Typer) -> None:
    users_app.command("institution")(institution)
