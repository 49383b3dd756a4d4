"""Model owners: register a model, ask to join a benchmark, see the model's results."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.benchmarks import requested
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.cubes import (
    CUBE_COLUMNS,
    additional_files_option,
    container_config_option,
    cube_to_register,
    development_option,
    folder_argument,
    image_archive_option,
    parameters_option,
    register_folder,
)
from medval.cli.render import print_result_document, print_results
from medval.client.declared_metrics import declared_metrics
from medval.client.joining import ask_to_join, try_model
from medval.core.states import CubeKind

app = typer.Typer(help="Model owners: register models and join benchmarks.", no_args_is_help=True)


@app.command("register")
def register(
    ctx: typer.Context,
    folder: Path | None = folder_argument(),
    container_config: Path | None = container_config_option(),
    parameters: Path | None = parameters_option(),
    additional_files: Path | None = additional_files_option(),
    name: str | None = typer.Option(None, "--name"),
    development: bool = development_option(),
    image_archive: Path | None = image_archive_option(),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Register a model cube (pinned by its content hash, and its image's digest)."""
    cube = cube_to_register(folder, container_config, parameters, additional_files)
    register_folder(ctx.obj, cube, name, development, image_archive, fmt, CubeKind.MODEL)


@app.command("list")
def list_models(
    ctx: typer.Context,
    mine: bool = typer.Option(False, "--mine"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """List model cubes."""
    session: Session = ctx.obj
    with session.client() as client:
        cubes = client.cubes(kind=CubeKind.MODEL.value, mine=mine or None)
    session.show(cubes, fmt, CUBE_COLUMNS, "models")


@app.command("associate")
def associate(
    ctx: typer.Context,
    model_id: int = typer.Argument(...),
    benchmark_id: int = typer.Option(..., "--benchmark", "-b"),
    yes: bool = YesOption,
) -> None:
    """Run the compatibility test on the benchmark's demo data, then ask to join."""
    session: Session = ctx.obj
    with session.client() as client:
        trial = try_model(session.executor(client), model_id, benchmark_id, session.note)
        result = trial.result
        print_result_document(
            session, result.document, "compatibility test (demo data)", result.left_out
        )
        name, benchmark = trial.model.name, trial.benchmark.name
        session.confirm(f"Ask benchmark {benchmark} to accept model {name}?", yes)
        association = ask_to_join(client, session.audit_log(), trial.request())
    session.err.print(
        f"association {association.id} {requested(association)}; the benchmark owner decides"
    )


@app.command("results")
def model_results(
    ctx: typer.Context,
    model_id: int = typer.Argument(...),
    fmt: OutputFormat = FormatOption,
) -> None:
    """The results of one model that this account may see."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.results(model_id=model_id)
        declared = declared_metrics(client, (r.benchmark_id for r in rows))
    print_results(session, rows, fmt, declared)
