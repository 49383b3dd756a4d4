"""``medval run``: the data owner reviews the pending executions and runs them.

With ``--format json`` the review and the progress go to stderr, and stdout gets one JSON
document at the end: every execution planned, what became of it, and for one that ran
the aggregate document kept here (what an upload would send), or its one-line failure.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption, json_or_table
from medval.cli.render import print_result_document
from medval.client.pending_review import execution_state, model_gpu_needs, refuse_missing_gpus
from medval.client.run_quotas import within_daily_quota
from medval.client.runs import (
    PlannedExecution,
    check_jobs,
    plan,
    refuse_invalid_models,
    run_executions,
    should_run,
)
from medval.client.workspace import LocalResult
from medval.core.errors import ERRORS_BY_CODE, InvalidInput, SandboxError
from medval.core.gpus import GpuNeed, GpuRequest, find_gpus


class _Console:
    """What the data owner sees while ``run_executions`` works. With executions side by
    side (``tagged``), the start names the execution's key and each line after it its
    number, as its steps do."""

    def __init__(self, session: Session, tagged: bool = False, quiet: bool = False) -> None:
        self.session = session
        self.tagged = tagged
        self.quiet = quiet  # the documents go into the JSON at the end, not on the console
        self._tags: dict[str, str] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}

    def starting(self, number: int, total: int, item: PlannedExecution) -> None:
        tag = self._tags[item.key] = f"[{number}/{total}]"
        on = f"{tag} {item.pending.model} on {item.pending.dataset}"
        self.session.err.print(f"{on} ({item.key})" if self.tagged else on)

    def succeeded(self, item: PlannedExecution, result: LocalResult) -> None:
        document = result.document.model_dump(mode="json") if result.document else None
        self.outcomes[item.key] = {"outcome": "succeeded", "document": document}
        if result.document is not None and not self.quiet:
            title = f"{item.key} (local, not uploaded)"
            print_result_document(self.session, result.document, title, result.left_out)

    def failed(self, item: PlannedExecution, message: str, recorded: str | None) -> None:
        self.outcomes[item.key] = {"outcome": "failed", "failure": message}
        if self.tagged:
            message = f"{self._tags[item.key]} {message}"
        if recorded is None:
            self.session.err.print(f"  [red]✗[/red] {message} (nothing recorded)")
            return
        self.session.err.print(f"  [red]✗[/red] {message}")
        self.session.err.print(
            f"  kept as a failed execution ({item.key}), to upload after review: {recorded}"
        )


NO_CSV = "a run's account is one nested document (each execution and what it gave)"


def _as_json(
    items: list[PlannedExecution], gpu_needs: dict[int, GpuNeed], listener: _Console | None
) -> str:
    """Every planned execution and what became of it (``not run``: a local result or a
    recorded failure already, or stopped before it by --fail-fast)."""
    rows = []
    for item in items:
        p = item.pending
        need = gpu_needs.get(p.model_id)
        row: dict[str, Any] = {
            "key": item.key,
            "benchmark_id": p.benchmark_id,
            "benchmark": p.benchmark,
            "dataset_id": p.dataset_id,
            "dataset": p.dataset,
            "model_id": p.model_id,
            "model": p.model,
            "model_owner": p.model_owner,
            "model_hash": p.model_hash,
            "gpu": None if need is None else need.value,
            "state": execution_state(item),
            "outcome": "not run",
        }
        if listener is not None:
            row.update(listener.outcomes.get(item.key, {}))
        rows.append(row)
    return json.dumps(rows, indent=2)


def _show_plan(
    session: Session,
    items: list[PlannedExecution],
    gpu_needs: dict[int, GpuNeed],
    on_stderr: bool = False,
) -> None:
    table = Table(title="models waiting to run on your datasets")
    columns = ("key", "benchmark", "dataset", "model", "model owner", "model hash", "GPU", "state")
    for column in columns:
        table.add_column(column)
    for item in items:
        p = item.pending
        state = execution_state(item)
        need = gpu_needs.get(p.model_id)
        gpu = "-" if need is None else need.value.replace("_", " ")
        table.add_row(
            item.key, p.benchmark, p.dataset, p.model, p.model_owner, p.model_hash[:16], gpu, state
        )
    (session.err if on_stderr else session.out).print(table)
    for item in items:
        refused = item.refusal()
        if refused is not None:
            session.err.print(f"{item.key}: {refused}", markup=False, highlight=False)


def run(
    ctx: typer.Context,
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b"),
    model_ids: str | None = typer.Option(
        None, "--model", "-m", help="Only these models: ID or ID,ID,..."
    ),
    force: bool = typer.Option(
        False, "--force", help="Run again even if a local result or a recorded failure exists."
    ),
    fail_fast: bool = typer.Option(
        False, "--fail-fast", help="Stop at the first execution that fails."
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        "-j",
        metavar="N",
        help="Run up to N executions at once (default 1: one at a time). Each keeps its "
        "own time and memory limits: N at once may use N times the memory.",
    ),
    gpus: str = typer.Option(
        "none",
        "--gpus",
        metavar="all|none|IDS",
        help="GPUs given to a model that needs or can use one: all, none (the default) or "
        "NVIDIA GPU numbers (0,1). Checked against this machine before anything runs.",
    ),
    yes: bool = YesOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """List pending model executions, show what will run, and run them on approval.

    A model that fails is kept as a failed result (upload it like any other) and the
    run goes on with the next one; the command then ends with a non-zero exit code.
    """
    check_jobs(jobs)  # before anything is asked of the server
    as_json = json_or_table(fmt, NO_CSV)
    session: Session = ctx.obj
    devices = find_gpus(GpuRequest.parse(gpus), session.settings.device_root)
    with session.client() as client:
        executor = session.executor(client).with_gpus(devices)
        chosen = _ids(model_ids)
        items = plan(executor, benchmark_id, chosen)
        refuse_invalid_models(executor, chosen, items)
        if not items:
            session.err.print("nothing to run: no approved model is waiting for your datasets")
            if as_json:
                typer.echo("[]")
            return
        quota = within_daily_quota([i for i in items if should_run(i, force)])
        todo = quota.todo
        for note in quota.notes:
            session.err.print(note, markup=False, highlight=False)
        gpu_needs = model_gpu_needs(executor, todo)
        _show_plan(session, items, gpu_needs, on_stderr=as_json)
        if not todo and quota.deferred:
            session.err.print("nothing runs today: the phases' daily quotas are used up")
            if as_json:
                typer.echo(_as_json(items, gpu_needs, None))
            return
        if not todo:
            session.err.print(
                "every execution here already has a local result or a recorded failure "
                "(--force runs it again); review and upload with 'medval results upload KEY'"
            )
            if as_json:
                typer.echo(_as_json(items, gpu_needs, None))
            return
        refuse_missing_gpus(todo, gpu_needs, devices)
        if devices.ids:
            session.err.print(f"GPUs given to models that use one: {devices.describe()}")
        session.confirm(f"Run {len(todo)} model execution(s) in the sandbox on your data?", yes)
        tagged = min(jobs, len(todo)) > 1
        listener = _Console(session, tagged, quiet=as_json)
        outcome = run_executions(executor, todo, listener, fail_fast, jobs)
        if fail_fast and outcome.failures:
            session.err.print("stopping at the first failure (--fail-fast)")
    session.err.print("review and upload each result with 'medval results upload KEY'")
    if as_json:
        typer.echo(_as_json(items, gpu_needs, listener))
    if outcome.failures:
        # One kind of failure (say, invalid documents only) keeps its own exit code.
        kinds = {failure.code for failure in outcome.failures}
        error = ERRORS_BY_CODE.get(kinds.pop(), SandboxError) if len(kinds) == 1 else SandboxError
        left = outcome.total - outcome.ran
        not_run = f" ({left} not run: --fail-fast)" if left else ""
        raise error(
            f"{len(outcome.failures)} of {outcome.ran} executions failed{not_run}: "
            + "; ".join(f"{f.key}: {f.message}" for f in outcome.failures)
        )


def _ids(text: str | None) -> set[int] | None:
    if text is None:
        return None
    words = [word.strip() for word in text.split(",") if word.strip()]
    if not words or not all(word.isdigit() for word in words):
        raise InvalidInput(f"--model takes model IDs separated by commas, not {text!r}")
    return {int(word) for word in words}


def register(app: typer.Typer) -> None:
    app.command("run")(run)
