"""Results: local ones awaiting review, uploads after approval, and released ones."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.render import interval, result_rows
from medval.client.runs import upload_payload
from medval.core.errors import Conflict, NotFound

app = typer.Typer(help="Review, upload and see results.", no_args_is_help=True)


class LocalRow(BaseModel):
    key: str
    dataset: str
    model: str
    n_cases: int
    auroc: str
    uploaded: str


@app.command("list")
def list_results(
    ctx: typer.Context,
    local: bool = typer.Option(False, "--local", help="Results computed on this machine."),
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Results released to this account (or, with --local, those computed here)."""
    session: Session = ctx.obj
    if local:
        results = [
            r
            for r in session.workspace.results()
            if benchmark_id is None or r.benchmark_id == benchmark_id
        ]
        if fmt is OutputFormat.JSON:
            session.show(results, fmt)
            return
        rows = [
            LocalRow(
                key=r.key,
                dataset=r.dataset,
                model=r.model,
                n_cases=r.document.n_cases,
                auroc=interval(r.document.metrics.get("auroc")),
                uploaded=f"{r.uploaded_at:%Y-%m-%d %H:%M}" if r.uploaded_at else "no",
            )
            for r in results
        ]
        session.show(rows, fmt, title="local results")
        return
    with session.client() as client:
        released = client.results(benchmark_id=benchmark_id)
    if fmt is OutputFormat.JSON:
        session.show(released, fmt)
    else:
        session.show(result_rows(released), fmt, title="results")


@app.command("show")
def show(ctx: typer.Context, result_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one released result in full."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.result(result_id), fmt)


@app.command("upload")
def upload(ctx: typer.Context, key: str, yes: bool = YesOption) -> None:
    """Show the exact payload of a local result, and upload it on approval."""
    session: Session = ctx.obj
    result = session.workspace.result(key)
    if result is None:
        raise NotFound(f"no local result {key!r}; see 'medval results list --local'")
    if result.uploaded_at is not None:
        raise Conflict(f"result {key} was already uploaded (as {result.server_id})")
    payload = upload_payload(result)
    with session.client() as client:
        session.err.print("This is everything that will be sent to the server:")
        session.out.print_json(payload.model_dump_json())
        session.confirm(f"Upload result {key} to {client.base_url}?", yes)
        uploaded = client.upload_result(payload)
    session.workspace.mark_uploaded(result, uploaded.id)
    session.err.print(f"result {key} uploaded as {uploaded.id}")
