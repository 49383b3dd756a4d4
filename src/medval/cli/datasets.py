"""Data owners: prepare a dataset locally, register its hash and statistics, join."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.benchmarks import requested
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.cubes import StageArgument, confirm_invalidation
from medval.cli.data_policies import policy_app
from medval.cli.preparation_cases import case_app
from medval.cli.preparation_reports import dataset_report
from medval.cli.preparation_reviews import review_app
from medval.cli.render import columns, count, print_left_out
from medval.client.dataset_transfer import (
    check_registered,
    export_dataset,
    install,
    staged_import,
)
from medval.client.datasets import (
    preparation_counts,
    preparation_extras,
    prepare_dataset,
    registration_payload,
    verify_prepared,
)
from medval.client.joining import ask_to_join, dataset_request
from medval.client.preparation.progress_counts import StepCount
from medval.client.workspace import LocalDataset
from medval.core.errors import Conflict, InvalidInput
from medval.core.schemas import DatasetPublic
from medval.core.states import Stage

DATASET_COLUMNS = columns(
    DatasetPublic, "id", "name", "owner", "location", "stage", "data_hash", "invalidated_at"
)
LOCAL_DATASET_COLUMNS = columns(
    LocalDataset, "name", "benchmark_id", "server_id", "data_hash", "prepared_at"
)

STATUS_COLUMNS = columns(StepCount, "step", "done", "failed", "waiting", "last_progressed")

app = typer.Typer(
    help="Data owners: prepare, register and associate datasets.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
app.add_typer(case_app, name="case")
app.add_typer(review_app, name="review")


@app.command("prepare")
def prepare(
    ctx: typer.Context,
    benchmark_id: int = typer.Option(..., "--benchmark", "-b"),
    name: str = typer.Option(..., "--name", help="A name for this dataset."),
    data_path: Path = typer.Option(..., "--data-path", help="Folder with the raw data."),
    labels_path: Path = typer.Option(..., "--labels-path", help="Folder with the labels."),
    location: str = typer.Option("", "--location", help="Site or hospital (shown to others)."),
    description: str = typer.Option("", "--description"),
    jobs: int = typer.Option(
        1,
        "--jobs",
        "-j",
        metavar="N",
        help="Run a workflow's per-case steps on up to N cases at once (default 1).",
    ),
) -> None:
    """Run the benchmark's preparation cube on local data; nothing is sent."""
    session: Session = ctx.obj
    if jobs < 1:
        raise InvalidInput(f"--jobs is how many cases are prepared at once: at least 1, not {jobs}")
    with session.client() as client:
        dataset = prepare_dataset(
            session.executor(client),
            benchmark_id=benchmark_id,
            name=name,
            data_path=data_path,
            labels_path=labels_path,
            location=location,
            description=description,
            jobs=jobs,
        )
    session.err.print(
        f"prepared {dataset.name}: {count(dataset.statistics.n_cases)} cases, "
        f"hash {dataset.data_hash[:12]}…; next: medval dataset register {dataset.name}"
    )
    print_left_out(session, dataset.left_out, "the statistics file")
    for kept in preparation_extras(session.workspace, dataset):
        session.err.print(f"kept here, never sent: {kept}", markup=False, highlight=False)


@app.command("status")
def status(ctx: typer.Context, name: str, fmt: OutputFormat = FormatOption) -> None:
    """Per step of a preparation workflow (running or stopped): cases finished, failed and
    waiting (not run yet, or waiting for a review), and when a case of it last finished."""
    session: Session = ctx.obj
    counts = preparation_counts(session.workspace, name)
    session.show(counts.steps, fmt, STATUS_COLUMNS, f"preparation of {name}")
    session.err.print(f"{counts.excluded} case(s) excluded")


@app.command("register")
def register(
    ctx: typer.Context,
    name: str,
    development: bool = typer.Option(
        False, "--development", help="Register as a draft (private; cannot join yet)."
    ),
    yes: bool = YesOption,
) -> None:
    """Show exactly what will be sent (hash and statistics), then register on approval."""
    session: Session = ctx.obj
    dataset = session.workspace.dataset(name)
    if dataset.server_id is not None:
        raise Conflict(f"dataset {name!r} is already registered as {dataset.server_id}")
    with session.client() as client:
        verify_prepared(session.executor(client), dataset)
        payload = registration_payload(
            dataset, Stage.DEVELOPMENT if development else Stage.OPERATION
        )
        session.err.print("This is everything that will be sent to the server:")
        session.out.print_json(payload.model_dump_json())
        print_left_out(session, dataset.left_out, "the statistics file")
        print_cases_left_out(session, dataset)
        session.confirm(f"Register dataset {name} on {client.base_url}?", yes)
        registered = client.register_dataset(payload)
    session.workspace.save_dataset(dataset.model_copy(update={"server_id": registered.id}))
    session.err.print(f"dataset {name} registered as {registered.id}")


def print_cases_left_out(session: Session, dataset: LocalDataset) -> None:
    """The cases the prepared data leaves out, by name, on this screen only: what is sent
    counts them (``statistics.preparation``) and never names them."""
    for cases, why in (
        (dataset.excluded_cases, "excluded by you"),
        (dataset.set_aside_cases, "set aside (a preparation step failed on them)"),
    ):
        if cases:
            session.note(
                f"{len(cases)} case(s) {why}, left out of the prepared data; "
                f"named here only, never sent: {', '.join(cases)}"
            )


@app.command("associate")
def associate(
    ctx: typer.Context,
    name: str,
    benchmark_id: int | None = typer.Option(
        None, "--benchmark", "-b", help="Defaults to the benchmark it was prepared for."
    ),
    yes: bool = YesOption,
) -> None:
    """Ask a benchmark to include this dataset; its owner decides."""
    session: Session = ctx.obj
    request = dataset_request(session.workspace, name, benchmark_id)
    with session.client() as client:
        session.confirm(f"Ask benchmark {request.benchmark_id} to include dataset {name}?", yes)
        association = ask_to_join(client, session.audit_log(), request)
    session.err.print(f"association {association.id} {requested(association)}")


@app.command("set-stage")
def set_stage(
    ctx: typer.Context,
    dataset_id: int,
    stage: Stage = StageArgument,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Move a draft dataset into operation (owners)."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.set_dataset_stage(dataset_id, stage)
    session.show(rows, fmt, columns(DatasetPublic, "id", "name", "owner", "stage"))


@app.command("list")
def list_datasets(
    ctx: typer.Context,
    local: bool = typer.Option(False, "--local", help="Datasets prepared on this machine."),
    mine: bool = typer.Option(False, "--mine"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Registered datasets (or, with --local, the ones prepared here)."""
    session: Session = ctx.obj
    if local:
        session.show(session.workspace.datasets(), fmt, LOCAL_DATASET_COLUMNS, "local datasets")
        return
    with session.client() as client:
        rows = client.datasets(mine=mine or None)
    session.show(rows, fmt, DATASET_COLUMNS, "datasets")


@app.command("show")
def show(ctx: typer.Context, dataset_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one registered dataset, with its statistics."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.dataset(dataset_id), fmt)


@app.command("invalidate")
def invalidate(
    ctx: typer.Context, dataset_id: int, yes: bool = YesOption, fmt: OutputFormat = FormatOption
) -> None:
    """Invalidate a registered dataset for good (owners, admins): nothing new runs on it."""
    session: Session = ctx.obj
    with session.client() as client:
        dataset = client.dataset(dataset_id)
        confirm_invalidation(session, f"dataset {dataset.id} ({dataset.name})", yes)
        session.show(client.invalidate_dataset(dataset_id), fmt, DATASET_COLUMNS)


@app.command("export")
def export(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The local dataset's name."),
    archive: Path = typer.Argument(..., help="A new file to write (never overwritten)."),
) -> None:
    """Write a prepared dataset and its local results (sent or not) to one archive, for
    another machine of yours. It holds labels and predictions: keep it at your site."""
    session: Session = ctx.obj
    exported = export_dataset(session.workspace, name, archive)
    unsent = sum(1 for r in exported.results if r.uploaded_at is None)
    session.err.print(
        f"exported {name} with {len(exported.results)} local result(s) ({unsent} not uploaded) "
        f"to {exported.path} ({exported.size / 1e6:.1f} MB); "
        f"on the other machine: medval dataset import {exported.path.name}"
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="An archive from 'medval dataset export'."),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite a local dataset (and results) of the same name."
    ),
) -> None:
    """Check an exported dataset (its data hash, and the registered one) and add it here."""
    session: Session = ctx.obj
    with staged_import(session.workspace, archive) as staged:
        if staged.dataset.server_id is not None:
            with session.client() as client:
                check_registered(client, staged)
        imported = install(session.workspace, staged, replace)
    for result in imported.kept:
        session.err.print(f"kept result {result.key}: it was already uploaded from here")
    session.err.print(
        f"imported {imported.dataset.name} (hash {imported.dataset.data_hash[:12]}… checked) "
        f"with {len(imported.results)} local result(s)"
    )


app.command("report")(dataset_report)
