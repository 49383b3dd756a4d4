"""``medval run``: the data owner reviews the pending executions and runs them."""

from __future__ import annotations

import typer
from pydantic import BaseModel
from rich.table import Table

from medval.cli.context import Session, YesOption
from medval.cli.render import print_result_document
from medval.client.runs import PlannedExecution, execute, plan, refuse_invalid_models
from medval.core.errors import ERRORS_BY_CODE, InvalidInput, MedvalError, SandboxError
from medval.core.states import ExecutionStatus


class _Failure(BaseModel):
    key: str
    message: str
    kind: str  # the error's code: the run ends with that kind when all failures share it


def _state(item: PlannedExecution) -> str:
    if item.done is not None:
        return "failed here" if item.done.status is ExecutionStatus.FAILED else "done locally"
    if item.dataset is None:
        return "not here"
    return "failed (recorded)" if item.pending.failed else "to run"


def _show_plan(session: Session, items: list[PlannedExecution]) -> None:
    table = Table(title="models waiting to run on your datasets")
    for column in ("key", "benchmark", "dataset", "model", "model owner", "model hash", "state"):
        table.add_column(column)
    for item in items:
        p = item.pending
        state = _state(item)
        table.add_row(
            item.key, p.benchmark, p.dataset, p.model, p.model_owner, p.model_hash[:16], state
        )
    session.out.print(table)


def _to_run(item: PlannedExecution, force: bool) -> bool:
    """Not done here yet, and no failure recorded on the server (those: with --force)."""
    if item.dataset is None:
        return False
    return force or (item.done is None and not item.pending.failed)


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
    yes: bool = YesOption,
) -> None:
    """List pending model executions, show what will run, and run them on approval.

    A model that fails is kept as a failed result (upload it like any other) and the
    run goes on with the next one; the command then ends with a non-zero exit code.
    """
    session: Session = ctx.obj
    with session.client() as client:
        executor = session.executor(client)
        chosen = _ids(model_ids)
        items = plan(executor, benchmark_id, chosen)
        refuse_invalid_models(executor, chosen, items)
        if not items:
            session.err.print("nothing to run: no approved model is waiting for your datasets")
            return
        _show_plan(session, items)
        todo = [i for i in items if _to_run(i, force)]
        if not todo:
            session.err.print(
                "every execution here already has a local result or a recorded failure "
                "(--force runs it again); review and upload with 'medval results upload KEY'"
            )
            return
        session.confirm(f"Run {len(todo)} model execution(s) in the sandbox on your data?", yes)
        failures: list[_Failure] = []
        ran = 0
        for number, item in enumerate(todo, start=1):
            ran = number
            session.err.print(
                f"[{number}/{len(todo)}] {item.pending.model} on {item.pending.dataset}"
            )
            try:
                done = execute(executor, item)
            except MedvalError as exc:
                failures.append(_Failure(key=item.key, message=exc.message, kind=exc.code))
                session.err.print(f"  [red]✗[/red] {exc.message} (nothing recorded)")
            else:
                if done.error is None and done.result.document is not None:
                    title = f"{item.key} (local, not uploaded)"
                    print_result_document(
                        session, done.result.document, title, done.result.left_out
                    )
                    continue
                message = done.error.message if done.error else str(done.result.failure)
                kind = done.error.code if done.error else SandboxError.code
                failures.append(_Failure(key=item.key, message=message, kind=kind))
                session.err.print(f"  [red]✗[/red] {message}")
                session.err.print(
                    f"  kept as a failed execution ({item.key}), to upload after review: "
                    f"{done.result.failure}"
                )
            if fail_fast:
                session.err.print("stopping at the first failure (--fail-fast)")
                break
    session.err.print("review and upload each result with 'medval results upload KEY'")
    if failures:
        # One kind of failure (say, invalid documents only) keeps its own exit code.
        kinds = {failure.kind for failure in failures}
        error = ERRORS_BY_CODE.get(kinds.pop(), SandboxError) if len(kinds) == 1 else SandboxError
        left = f" ({len(todo) - ran} not run: --fail-fast)" if ran < len(todo) else ""
        raise error(
            f"{len(failures)} of {ran} executions failed{left}: "
            + "; ".join(f"{f.key}: {f.message}" for f in failures)
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
