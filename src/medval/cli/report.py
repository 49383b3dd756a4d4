"""``medval report``: a benchmark's evidence as a self-contained HTML page, JSON and CSV."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session


def report(
    ctx: typer.Context,
    benchmark_id: int = typer.Argument(..., help="The benchmark's ID."),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help="Folder for the report: new, empty, or an earlier report's (its files replaced).",
    ),
    phase: str | None = typer.Option(
        None,
        "--phase",
        help="That phase's results (leaderboard, subgroups); default: the phase open now, "
        "else the last. The shift between sites is of their preparation statistics, the "
        "same in every phase.",
    ),
) -> None:
    """Write a benchmark's evidence report (HTML, JSON, CSV) as released to you."""
    from medval.client.report import make_report
    from medval.client.settings import load_login

    session: Session = ctx.obj
    login = load_login(session.settings)
    with session.anonymous_client() as client:
        reader = login.username if login else None
        written = make_report(client, benchmark_id, reader, output, phase)
    session.err.print(f"Report written: {written[0]}")
    session.err.print(f"  with the same figures in {', '.join(p.name for p in written[1:])}")
