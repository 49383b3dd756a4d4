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
    show_cube,
)
from medval.cli.model_attestation import app as attestation_app
from medval.cli.model_keys import app as keys_app
from medval.cli.render import print_result_document, print_results
from medval.client.declared_metrics import declared_metrics
from medval.client.joining import ask_to_join, try_model
from medval.core.errors import InvalidInput
from medval.core.hub_pins import parse_hub_reference
from medval.core.sealed_models import KeyReleaseVerifierKind
from medval.core.states import CubeKind, Stage

app = typer.Typer(help="Model owners: register models and join benchmarks.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(attestation_app, name="attestation")


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
    hub: str | None = typer.Option(
        None,
        "--hub",
        metavar="REPO@REVISION",
        help="A model cube held in a hub repository, read from the local mirror and pinned "
        "to the revision's commit and every file's hash.",
    ),
    hub_mirror: Path | None = typer.Option(
        None,
        "--hub-mirror",
        help="The local hub mirror (huggingface_hub's cache folder); default MEDVAL_HUB_MIRROR.",
    ),
    private: bool = typer.Option(
        False,
        "--private",
        help="Seal the model's archive (its code, parameters and additional files, where its "
        "weights belong) with a fresh key kept on this machine; the server gets the "
        "ciphertext only. Its container image, if any, is sealed too.",
    ),
    key_release: str | None = typer.Option(
        None,
        "--key-release",
        metavar="none|attested",
        help="With --private: to whom the model's key may be released: approved sites "
        "(none, the default), or only against attestation evidence (attested).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Register a model cube (pinned by its content hash, and its image's digest), from a
    folder or from a hub repository in the local mirror (--hub); --private: sealed, the
    server holds its ciphertext only."""
    session: Session = ctx.obj
    if key_release is not None and not private:
        raise InvalidInput("--key-release goes with --private")
    if private and hub is not None:
        raise InvalidInput(
            "a model from a hub (--hub) cannot be private: the hub holds it in clear; "
            "register its folder with --private instead"
        )
    if hub is None:
        if hub_mirror is not None:
            raise InvalidInput("--hub-mirror goes with --hub REPO@REVISION")
        cube = cube_to_register(folder, container_config, parameters, additional_files)
        release = KeyReleaseVerifierKind.parse(key_release or "none") if private else None
        register_folder(
            session, cube, name, development, image_archive, fmt, CubeKind.MODEL, release
        )
        return
    if folder or container_config or parameters or additional_files or image_archive:
        raise InvalidInput("give a cube folder (or its parts) or --hub REPO@REVISION, not both")
    from medval.client.hub_models import register_hub_model

    reference = parse_hub_reference(hub)
    with session.client() as client:
        registered = register_hub_model(
            client,
            reference,
            hub_mirror or session.settings.hub_mirror,
            name=name,
            stage=Stage.DEVELOPMENT if development else Stage.OPERATION,
            runner_kind=session.settings.runner,
            say=session.note,
        )
        show_cube(session, client, registered, fmt)


@app.command("show")
def show(ctx: typer.Context, model_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one model cube: its hashes, and for one from a hub, its repository, commit
    and every file's sha256."""
    session: Session = ctx.obj
    with session.client() as client:
        cube = client.cube(model_id)
        if cube.kind is not CubeKind.MODEL:
            raise InvalidInput(f"cube {model_id} is a {cube.kind.value} cube, not a model")
        show_cube(session, client, cube, fmt)


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
