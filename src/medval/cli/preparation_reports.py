"""``medval dataset report`` (a data owner's preparation report, shown and sent on approval)
and ``medval benchmark preparation-reports`` (the benchmark owner's list of them)."""

from __future__ import annotations

from typing import Any

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.core.preparation_report import PreparationReportCreate, PreparationReportPublic

STEP_COLUMNS = ("step", "runs", "done", "failed", "waiting_for_review", "not_yet")


def _step_rows(report: PreparationReportCreate) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json") for step in report.steps]


def _print_report(session: Session, report: PreparationReportCreate, title: str) -> None:
    from medval.cli.render import rows_table

    steps = list(report.steps)
    session.out.print(rows_table(steps, list(STEP_COLUMNS), title) if steps else f"(no {title})")
    cases = "-" if report.cases is None else report.cases
    excluded = "-" if report.excluded is None else report.excluded
    session.note(
        f"{cases} case(s), {excluded} excluded (-: withheld, below {report.min_cell_count})"
    )


def dataset_report(
    ctx: typer.Context,
    name: str,
    benchmark_id: int | None = typer.Option(
        None,
        "--benchmark",
        "-b",
        help="The benchmark it is prepared for (default: the one it was prepared for here).",
    ),
    send: bool = typer.Option(
        False, "--send", help="Show the exact payload and send it to the server on approval."
    ),
    yes: bool = YesOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """How far a preparation workflow got, per step: cases done, failed, waiting for
    review, not yet; no case named, small cells withheld. --send: to the benchmark's owner."""
    from medval.client.preparation_reports import (
        build_preparation_report,
        report_benchmark,
        send_preparation_report,
    )

    session: Session = ctx.obj
    benchmark = report_benchmark(session.workspace, name, benchmark_id)
    with session.client() as client:
        report = build_preparation_report(
            client, session.workspace, name, benchmark, session.settings.min_cell_count
        )
        if not send:
            session.render(
                fmt,
                report,
                lambda: _print_report(session, report, f"preparation of {name}"),
                lambda: _step_rows(report),
                first=STEP_COLUMNS,
            )
            return
        session.err.print("This is everything that will be sent to the server:")
        session.out.print_json(report.model_dump_json())
        session.confirm(
            f"Send the preparation report of {name} to benchmark {benchmark} at {client.base_url}?",
            yes,
        )
        sent = send_preparation_report(client, session.audit_log(), report)
    session.err.print(f"preparation report of {name} sent as report {sent.id}")


def _report_rows(reports: list[PreparationReportPublic]) -> list[dict[str, Any]]:
    """One row per report and step: who, when, the totals, and the step's counts."""
    rows = []
    for report in reports:
        head = {
            "id": report.id,
            "owner": report.owner,
            "dataset": report.dataset,
            "created_at": report.created_at.isoformat(),
            "cases": report.cases,
            "excluded": report.excluded,
        }
        rows += [head | step.model_dump(mode="json") for step in report.steps]
    return rows


def benchmark_preparation_reports(
    ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption
) -> None:
    """Sites' preparation reports on your benchmark: where each site's preparation stands
    (counts per step and state; - where a site withheld a small count)."""
    from medval.cli.render import cell
    from medval.client.preparation_reports import benchmark_preparation_reports as reports_of

    session: Session = ctx.obj
    with session.client() as client:
        reports = reports_of(client, benchmark_id)
    rows = _report_rows(reports)

    def table() -> None:
        if not rows:
            session.out.print("(no preparation reports)")
            return
        from rich.table import Table

        shown = Table(title=f"preparation reports of benchmark {benchmark_id}")
        for column in rows[0]:
            shown.add_column(column)
        for row in rows:
            shown.add_row(*(cell(value) for value in row.values()))
        session.out.print(shown)

    columns = ("id", "owner", "dataset", "created_at", "cases", "excluded", *STEP_COLUMNS)
    session.render(fmt, reports, table, lambda: rows, first=columns)
