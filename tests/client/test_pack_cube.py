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
