"""Errors name a cube by its registered name, never by the scratch folder it runs from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput
from medval.core.hashing import pack_directory, sha256_bytes
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import BubblewrapRunner, Limits

# MedPerf's container_config.yaml has no name: the folder's would be the scratch folder's.
NAMELESS_MODEL = """\
container_type: DockerImage
image: example/chest-model:0.1
tasks:
  infer:
    input_volumes:
      data_path: {mount_path: /volumes/data, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/predictions, type: directory}
"""


def _cached_cube(home: Path, folder: Path, name: str) -> tuple[Executor, CubePublic]:
    """A registered model whose archive is already in the client's cache (no server)."""
    archive = pack_directory(folder)
    digest = sha256_bytes(archive)
    workspace = Workspace(home)
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(digest).write_bytes(archive)
    cube = CubePublic(
        id=12,
        name=name,
        kind=CubeKind.MODEL,
        archive_hash=digest,
        owner_id=1,
        owner="vendor",
        stage=Stage.OPERATION,
        created_at=datetime.now(UTC),
    )
    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    return Executor(client, workspace, BubblewrapRunner(), Limits()), cube


def test_a_broken_spec_names_the_cube_not_its_scratch_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "medval-cube.yaml").write_text("name: [unclosed\n")
    executor, cube = _cached_cube(tmp_path / "home", folder, "logistic-v2")
    with pytest.raises(InvalidInput) as error, executor.unpacked(cube):
        pass
    assert error.value.message == (
        "model logistic-v2: medval-cube.yaml: not valid YAML: line 2, column 1: "
        "expected ',' or ']', but got '<stream end>'"
    )
    assert str(error.value) == error.value.message
    assert "scratch" not in str(error.value)


def test_a_spec_without_a_name_takes_the_registered_one(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "container_config.yaml").write_text(NAMELESS_MODEL)
    executor, cube = _cached_cube(tmp_path / "home", folder, "chest-model-v3")
    with executor.unpacked(cube) as (unpacked, spec):
        assert unpacked.name.startswith("cube-12-")  # a scratch folder ...
        assert spec.name == "chest-model-v3"  # ... that no message will name
