"""Packing a cube folder in any format: the archive holds the format's own files."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from medval.client.registration import pack_cube
from medval.core.cube_spec import load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.hashing import unpack_archive
from medval.core.states import CubeKind
from tests.core.format_samples import (
    MEDPERF_MODEL,
    MLCUBE_MODEL,
    write_additional_files,
    write_cube,
)
from tests.cube_wheels import write_environment_cube


def _members(archive: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {member.name for member in tar.getmembers() if member.isfile()}


@pytest.mark.parametrize(
    ("spec_file", "text"), [("mlcube.yaml", MLCUBE_MODEL), ("container_config.yaml", MEDPERF_MODEL)]
)
def test_a_format_folder_packs_whole_and_reads_back_the_same(
    tmp_path: Path, spec_file: str, text: str
) -> None:
    folder = write_cube(tmp_path / "cube", spec_file, text, parameters=True)
    write_additional_files(folder, {"w.txt": b"1"})
    packed = pack_cube(folder)
    assert _members(packed.archive) == {
        spec_file,
        "workspace/parameters.yaml",
        "additional_files.tar.gz",
    }
    assert packed.spec.kind is CubeKind.MODEL
    unpacked = tmp_path / "unpacked"
    unpack_archive(packed.archive, unpacked)
    assert load_cube_spec(unpacked).tasks == packed.spec.tasks
    assert pack_cube(folder).sha256 == packed.sha256


def test_the_kind_given_when_packing_settles_an_ambiguous_cube(tmp_path: Path) -> None:
    both = MLCUBE_MODEL + "  evaluate:\n    parameters: {inputs: {predictions: p, labels: l}}\n"
    folder = write_cube(tmp_path / "cube", "mlcube.yaml", both, parameters=True)
    with pytest.raises(InvalidInput, match="say which kind"):
        pack_cube(folder)
    assert pack_cube(folder, CubeKind.MODEL).spec.kind is CubeKind.MODEL


MLCUBE_WEIGHTS = """\
name: chest-model
docker: {image: example/chest-model:0.1}
tasks:
  infer:
    parameters:
      inputs: {data_path: data, weights: additional_files/weights/model.h5}
      outputs: {output_path: predictions}
"""


def test_an_input_the_additional_files_lack_is_refused_when_packed(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "mlcube.yaml", MLCUBE_WEIGHTS)
    archive = write_additional_files(folder, {"weights/other.h5": b"w"})
    with pytest.raises(InvalidInput) as refused:
        pack_cube(folder)
    assert str(refused.value) == (
        f"{folder / 'mlcube.yaml'}: task 'infer' input 'weights': additional_files.tar.gz "
        "holds no file weights/model.h5"
    )
    write_additional_files(folder, {"weights/model.h5": b"w"})
    assert archive.is_file() and pack_cube(folder).spec.kind is CubeKind.MODEL


def test_a_docker_archive_inside_the_folder_is_not_packed_with_the_cube(tmp_path: Path) -> None:
    text = MEDPERF_MODEL.replace(
        "DockerImage\nimage: example/chest-model:0.1", "DockerArchive\nimage: image.tar"
    )
    folder = write_cube(tmp_path / "cube", "container_config.yaml", text, parameters=True)
    write_additional_files(folder, {"w.txt": b"1"})
    (folder / "image.tar").write_bytes(b"an image archive, registered as the image")
    assert _members(pack_cube(folder).archive) == {
        "container_config.yaml",
        "workspace/parameters.yaml",
        "additional_files.tar.gz",
    }


def test_a_native_cube_packs_its_wheels_lock_and_additional_files(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    wheel = write_environment_cube(folder, "print('hi')\n")
    (folder / "weights").mkdir()
    (folder / "weights" / "model.pt").write_bytes(b"w")
    with (folder / "medval-cube.yaml").open("a") as spec:
        spec.write("additional_files: weights\n")
    packed = pack_cube(folder)
    assert _members(packed.archive) == {
        "medval-cube.yaml",
        "infer.py",
        "requirements.lock",
        f"wheels/{wheel.name}",
        "weights/model.pt",
    }
    assert packed.spec.additional_files == "weights"


def test_registering_a_cube_with_a_tampered_wheel_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    wheel = write_environment_cube(folder, "")
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(InvalidInput) as caught:
        pack_cube(folder)
    assert str(caught.value).startswith(f"{folder / 'wheels'}: {wheel.name} has sha256 ")
    assert str(caught.value).endswith("refused (tampered or another build)")
