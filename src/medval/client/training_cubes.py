"""Training cubes: a Flower app folder, registered and pinned by hash like every cube.

A folder with no cube spec (``medval-cube.yaml``, ``mlcube.yaml``, ``container_config.yaml``)
and a ``pyproject.toml`` with ``[tool.flwr.app]`` is a training cube. Before anything is
uploaded it is read as Flower reads it (``core.flower_app``): it must name a ServerApp and
a ClientApp whose modules are in the folder. The folder is packed whole (the archive's
hash covers every file the app ships) and uploaded as a blob. A registered one is
fetched, verified against its hash and unpacked again to be read
(``unpacked_training_cube``), never imported or run here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medval.client.cube_names import named_as
from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.core.errors import InvalidInput
from medval.core.flower_app import FlowerApp, is_flower_app, load_flower_app
from medval.core.formats import spec_files_in
from medval.core.hashing import pack_directory, sha256_bytes, unpack_archive, verify_sha256
from medval.core.schemas import CubeCreate, CubePublic, check_name
from medval.core.states import CubeKind, Stage


@dataclass(frozen=True)
class PackedTrainingCube:
    app: FlowerApp
    archive: bytes
    sha256: str


def is_training_cube_folder(folder: Path, expected_kind: CubeKind | None = None) -> bool:
    """Whether ``folder`` is to be registered as a training cube: asked for, or a Flower
    app with no cube spec of another kind."""
    if expected_kind is CubeKind.TRAINING:
        return True
    return expected_kind is None and not spec_files_in(folder) and is_flower_app(folder)


def pack_training_cube(folder: Path) -> PackedTrainingCube:
    if not folder.is_dir():
        raise InvalidInput(f"training cube folder {folder} does not exist")
    app = load_flower_app(folder)
    archive = pack_directory(folder)
    return PackedTrainingCube(app, archive, sha256_bytes(archive))


def register_training_cube(
    client: MedvalClient, folder: Path, name: str | None, stage: Stage = Stage.OPERATION
) -> CubePublic:
    """Check, pack and upload the Flower app, and register it as a training cube. Its
    name defaults to the app's project name."""
    packed = pack_training_cube(folder)
    chosen = name or packed.app.name
    if chosen is None:
        raise InvalidInput(f"{folder}/pyproject.toml names no project; give --name")
    body = CubeCreate(
        name=check_name(chosen, "cube name"),
        kind=CubeKind.TRAINING,
        archive_hash=packed.sha256,
        stage=stage,
    )
    client.upload_blob(packed.sha256, packed.archive)
    return client.register_cube(body)


@contextmanager
def unpacked_training_cube(
    executor: Executor, cube: CubePublic
) -> Iterator[tuple[Path, FlowerApp]]:
    """A fresh copy of a registered training cube, unpacked only after its hash is checked
    again, and its Flower app as read from it; errors name the cube."""
    if cube.kind is not CubeKind.TRAINING:
        raise InvalidInput(f"cube {cube.name} is a {cube.kind.value} cube, not a training cube")
    archive = executor.fetch(cube)
    data = archive.read_bytes()
    verify_sha256(data, cube.archive_hash, f"cube {cube.name} (cached at {archive})")
    folder = executor.workspace.scratch(f"cube-{cube.id}-")
    try:
        with named_as(cube, folder):
            unpack_archive(data, folder)
            yield folder, load_flower_app(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
