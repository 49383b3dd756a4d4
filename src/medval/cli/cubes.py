"""Cubes: register a cube (a folder, or its parts the MedPerf way), list and show cubes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.render import columns
from medval.client.cube_parts import CubeParts
from medval.client.http import MedvalClient
from medval.client.private_models import owner_keeps_keys
from medval.client.registration import register_cube, registered_notes
from medval.core.errors import InvalidInput
from medval.core.schemas import CubePublic
from medval.core.sealed_models import KeyReleaseVerifierKind
from medval.core.states import CubeKind, Stage

app = typer.Typer(
    help="Register and inspect cubes (preparation, model, evaluator).", no_args_is_help=True
)

CUBE_COLUMNS = columns(
    CubePublic, "id", "name", "kind", "owner", "stage", "archive_hash", "invalidated_at"
)


def development_option() -> Any:
    return typer.Option(False, "--development", help="Register as a draft (not yet usable).")


def image_archive_option() -> Any:
    return typer.Option(
        None,
        "--image-archive",
        help="For a cube with an image: a docker/podman save archive of it, instead of "
        "saving the image from the engine (--runner; else docker, else podman).",
    )


def folder_argument() -> Any:
    return typer.Argument(
        None, help="The cube folder (medval-cube.yaml, mlcube.yaml or container_config.yaml)."
    )


def container_config_option() -> Any:
    return typer.Option(
        None,
        "--container-config",
        "--container-config-file",
        "-m",
        help="Instead of a folder: a container_config.yaml or mlcube.yaml (MedPerf's -m).",
    )


def parameters_option() -> Any:
    return typer.Option(
        None,
        "--parameters",
        "--parameters-file",
        "-p",
        help="With --container-config: its parameters.yaml.",
    )


def additional_files_option() -> Any:
    return typer.Option(
        None,
        "--additional-files",
        "--additional-file",
        "-a",
        help="With --container-config: its additional files, a .tar.gz.",
    )


@app.command("register")
def register(
    ctx: typer.Context,
    folder: Path | None = folder_argument(),
    container_config: Path | None = container_config_option(),
    parameters: Path | None = parameters_option(),
    additional_files: Path | None = additional_files_option(),
    name: str | None = typer.Option(None, "--name", help="Defaults to the spec's name."),
    development: bool = development_option(),
    image_archive: Path | None = image_archive_option(),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Pack a cube, upload it (and its image) and register it, pinned by hashes."""
    cube = cube_to_register(folder, container_config, parameters, additional_files)
    register_folder(ctx.obj, cube, name, development, image_archive, fmt, None)


def cube_to_register(
    folder: Path | None,
    container_config: Path | None,
    parameters: Path | None,
    additional_files: Path | None,
) -> Path | CubeParts:
    """A folder, or the parts given separately; any other mix is one line."""
    if folder is not None and container_config is not None:
        raise InvalidInput("give a cube folder or --container-config, not both")
    if container_config is not None:
        return CubeParts(container_config, parameters, additional_files)
    if parameters is not None or additional_files is not None:
        raise InvalidInput("--parameters and --additional-files go with --container-config")
    if folder is None:
        raise InvalidInput("give a cube folder, or --container-config FILE")
    return folder


def register_folder(
    session: Session,
    cube: Path | CubeParts,
    name: str | None,
    development: bool,
    image_archive: Path | None,
    fmt: OutputFormat,
    expected_kind: CubeKind | None,
    key_release: KeyReleaseVerifierKind | None = None,
) -> None:
    """What ``cube register`` and ``model register`` share (``key_release``: a private
    model, its key released through that verifier: :mod:`medval.client.private_models`)."""
    stage = Stage.DEVELOPMENT if development else Stage.OPERATION
    with session.client() as client:
        registered = register_cube(
            client,
            cube,
            name=name,
            expected_kind=expected_kind,
            stage=stage,
            runner_kind=session.settings.runner,
            image_archive=image_archive,
            say=session.note,
            private=None
            if key_release is None
            else owner_keeps_keys(session.settings, key_release),
        )
    session.show(registered, fmt)


def confirm_invalidation(session: Session, what: str, yes: bool) -> None:
    """Invalidation has no way back: say what it does, then ask (``--yes`` for scripts)."""
    session.err.print(
        f"{what} will stay in the record with its results, but nothing new will run, "
        "associate or upload against it. This cannot be undone."
    )
    session.confirm(f"Invalidate {what}?", yes)


StageArgument = typer.Argument(..., help="development or operation (there is no way back).")


@app.command("set-stage")
def set_stage(
    ctx: typer.Context, cube_id: int, stage: Stage = StageArgument, fmt: OutputFormat = FormatOption
) -> None:
    """Move a draft cube into operation (owners)."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.set_cube_stage(cube_id, stage), fmt, CUBE_COLUMNS)


@app.command("list")
def list_cubes(
    ctx: typer.Context,
    kind: CubeKind | None = typer.Option(None, "--kind"),
    mine: bool = typer.Option(False, "--mine", help="Only cubes I own."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """List cubes."""
    session: Session = ctx.obj
    with session.client() as client:
        cubes = client.cubes(kind=kind.value if kind else None, mine=mine or None)
    session.show(cubes, fmt, CUBE_COLUMNS, "cubes")


@app.command("show")
def show(ctx: typer.Context, cube_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one cube, and what its spec declares that medval does not honour."""
    session: Session = ctx.obj
    with session.client() as client:
        show_cube(session, client, client.cube(cube_id), fmt)


def show_cube(session: Session, client: MedvalClient, cube: CubePublic, fmt: OutputFormat) -> None:
    """One cube; for one registered from a hub repository, what it is pinned to (the
    repository, the revision, its commit and every file's sha256) in a table of its own;
    then what its spec declares that medval does not honour."""
    session.render(fmt, cube, lambda: _cube_table(session, cube))
    for line in registered_notes(session.executor(client), cube):
        session.note(line)


def _cube_table(session: Session, cube: CubePublic) -> None:
    from medval.cli.render import record_table

    pin = cube.hub
    if pin is None:
        session.out.print(record_table(cube))
        return
    session.out.print(record_table(cube, shown_apart=frozenset({"hub"})))
    table = Table(title=f"hub: {pin.repo}@{pin.revision}, commit {pin.commit}")
    table.add_column("file")
    table.add_column("sha256")
    for file, sha256 in sorted(pin.files.items()):
        table.add_row(file, sha256)
    session.out.print(table)


@app.command("invalidate")
def invalidate(
    ctx: typer.Context, cube_id: int, yes: bool = YesOption, fmt: OutputFormat = FormatOption
) -> None:
    """Invalidate a cube for good (owners, admins): nothing new runs it."""
    session: Session = ctx.obj
    with session.client() as client:
        cube = client.cube(cube_id)
        confirm_invalidation(session, f"cube {cube.id} ({cube.name})", yes)
        session.show(client.invalidate_cube(cube_id), fmt, CUBE_COLUMNS)
