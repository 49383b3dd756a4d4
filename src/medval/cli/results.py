"""Results: local ones awaiting review, uploads after approval, released ones, and
export bundles.

A result is a model's execution on a dataset: succeeded (metrics) or failed (medval's
one-line reason, no metrics); both are reviewed, signed and uploaded the same way.
"""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli import publication
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.client.settings import require_login
from medval.core.errors import Conflict, InvalidInput, MedvalError

app = typer.Typer(help="Review, upload and see results.", no_args_is_help=True)


@app.command("list")
def list_results(
    ctx: typer.Context,
    local: bool = typer.Option(False, "--local", help="Results computed on this machine."),
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Results released to this account (or, with --local, those computed here).

    --format csv: one row per result, each metric in NAME, NAME lower, NAME upper."""
    from medval.cli.flat_rows import result_rows
    from medval.cli.render import local_results_table, print_results

    session: Session = ctx.obj
    if local:
        results = [
            r
            for r in session.workspace.results()
            if benchmark_id is None or r.benchmark_id == benchmark_id
        ]
        session.render(
            fmt,
            results,
            lambda: session.out.print(
                local_results_table(results) if results else "(no local results)"
            ),
            lambda: result_rows(results),
            first=("key", "dataset", "model", "status", "n_cases"),
        )
        return
    from medval.client.declared_metrics import declared_metrics

    with session.client() as client:
        released = client.results(benchmark_id=benchmark_id)
        declared = declared_metrics(client, (r.benchmark_id for r in released))
    print_results(session, released, fmt, declared)


@app.command("show")
def show(ctx: typer.Context, result_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one released result in full."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.result(result_id), fmt)


@app.command("upload")
def upload(
    ctx: typer.Context,
    key: str | None = typer.Argument(None, help="The local result's key (see --local list)."),
    every: bool = typer.Option(
        False, "--all", help="Every local result not uploaded yet: one review, one approval."
    ),
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b", help="With --all."),
    yes: bool = YesOption,
) -> None:
    """Show the exact payload of local results, and upload them on approval."""
    # Each command imports what it uses: listing local results starts faster (issue 14).
    from medval.cli.render import print_left_out
    from medval.client.result_upload import (
        local_result_to_upload,
        local_results_to_upload,
        upload_reviewed,
        upload_signer,
    )
    from medval.client.runs import upload_payload

    session: Session = ctx.obj
    if (key is None) == (not every):
        raise InvalidInput("name one result KEY, or pass --all (not both)")
    if key is not None:
        results = [local_result_to_upload(session.workspace, key)]
    else:
        results = local_results_to_upload(session.workspace, benchmark_id)
        if not results:
            session.err.print("nothing to upload: every local result here was uploaded")
            return
    signer = upload_signer(session.settings)
    payloads = [upload_payload(result, signer) for result in results]
    with session.client() as client:
        session.err.print("This is everything that will be sent to the server:")
        if len(payloads) == 1:
            session.out.print_json(payloads[0].model_dump_json())
        else:
            session.out.print_json(data=[p.model_dump(mode="json") for p in payloads])
        for result in results:
            print_left_out(session, result.left_out, f"the results file of {result.key}")
        keys = ", ".join(result.key for result in results)
        session.confirm(f"Upload result {keys} to {client.base_url}?", yes)
        refused: list[tuple[str, MedvalError]] = []
        audit = session.audit_log()
        for result in results:
            try:
                sent = upload_reviewed(client, session.workspace, audit, result, signer)
            except MedvalError as exc:
                if len(results) == 1:
                    raise
                refused.append((result.key, exc))
                session.err.print(f"  [red]✗[/red] result {result.key}: {exc.message}")
                continue
            if sent.settled:
                session.err.print(
                    f"result {result.key} was already on the server as {sent.server_id} "
                    "(the answer to an earlier upload was lost); marked sent here"
                )
            else:
                session.err.print(f"result {result.key} uploaded as {sent.server_id}")
    if refused:
        # One kind of refusal keeps its exit code; a mixture is a conflict.
        kinds = {type(exc) for _, exc in refused}
        kind = kinds.pop() if len(kinds) == 1 else Conflict
        reasons = "; ".join(f"{key}: {exc.message}" for key, exc in refused)
        raise kind(f"{len(refused)} of {len(results)} uploads refused: {reasons}")


@app.command("export")
def export(
    ctx: typer.Context,
    benchmark_id: int = typer.Option(..., "--benchmark", "-b"),
    output: Path = typer.Option(..., "--output", "-o", help="The bundle file to write."),
) -> None:
    """Write a benchmark's results that you may see, their signatures and the public
    keys that made them to one file, for 'medval verify' (no server needed)."""
    from medval.client.bundles import export_bundle, write_bundle

    session: Session = ctx.obj
    username = require_login(session.settings).username
    with session.client() as client:
        bundle = export_bundle(client, benchmark_id, username)
    write_bundle(bundle, output)
    session.note(
        f"wrote {len(bundle.results)} results of benchmark {bundle.benchmark} "
        f"and {len(bundle.keys)} keys to {output}"
    )


# The committee's decision on a held result (issue 19).
app.command("publish")(publication.publish)
app.command("withhold")(publication.withhold)
