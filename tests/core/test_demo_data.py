"""Demo data in medval's layout and in MedPerf's (paths.yaml), as a folder or a tarball."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from medval.client.registration import pack_demo_data
from medval.core.demo_data import locate
from medval.core.errors import InvalidInput
from medval.core.hashing import unpack_archive


def _medperf_layout(root: Path, paths: str) -> Path:
    (root / "demo_data" / "images").mkdir(parents=True)
    (root / "demo_data" / "labels").mkdir(parents=True)
    (root / "demo_data" / "images" / "patients.csv").write_text("case_id\n1\n")
    (root / "demo_data" / "labels" / "outcomes.csv").write_text("case_id,event\n1,0\n")
    (root / "paths.yaml").write_text(paths)
    return root


def test_medvals_own_layout_is_data_and_labels(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "labels").mkdir()
    found = locate(tmp_path)
    assert (found.data, found.labels) == (tmp_path / "data", tmp_path / "labels")


def test_medperfs_paths_yaml_names_the_folders(tmp_path: Path) -> None:
    root = _medperf_layout(tmp_path, "data_path: demo_data/images\nlabels_path: demo_data/labels\n")
    found = locate(root)
    assert found.data == root / "demo_data" / "images"
    assert found.labels == root / "demo_data" / "labels"


def test_a_medperf_tarball_is_packed_like_its_folder(tmp_path: Path) -> None:
    root = _medperf_layout(
        tmp_path / "work", "data_path: demo_data/images\nlabels_path: demo_data/labels\n"
    )
    tarball = tmp_path / "demo_data.tar.gz"
    # As MedPerf's tutorial makes it, with the system's tar.
    subprocess.run(
        ["tar", "-czf", str(tarball), "-C", str(root), "demo_data", "paths.yaml"], check=True
    )
    from_tarball = pack_demo_data(tarball)
    from_folder = pack_demo_data(root)
    assert from_tarball.sha256 == from_folder.sha256
    unpacked = tmp_path / "unpacked"
    unpack_archive(from_tarball.archive, unpacked)
    found = locate(unpacked)
    assert (found.data / "patients.csv").read_text() == "case_id\n1\n"


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ("data_path: ../x\nlabels_path: demo_data/labels\n", "must stay inside the demo data"),
        ("data_path: /etc\nlabels_path: demo_data/labels\n", "must stay inside the demo data"),
        ("data_path: demo_data/nope\nlabels_path: demo_data/labels\n", "is not a folder"),
        ("labels_path: demo_data/labels\n", "'data_path' must be a path relative to it"),
        ("- data_path\n", "expected a mapping at the top level"),
        (
            "data_path: demo_data/images\nlabels_path: demo_data/labels\nmetadata_path: m\n",
            "names a metadata_path",
        ),
        (
            "data_path: demo_data/images\nlabels_path: demo_data/labels\nextra: 1\n",
            "unknown key extra",
        ),
    ],
)
def test_a_bad_paths_yaml_is_one_line(tmp_path: Path, paths: str, message: str) -> None:
    root = _medperf_layout(tmp_path, paths)
    with pytest.raises(InvalidInput, match=message) as caught:
        locate(root)
    assert "\n" not in caught.value.message


def test_a_path_through_a_link_is_refused(tmp_path: Path) -> None:
    root = _medperf_layout(tmp_path / "r", "data_path: out/images\nlabels_path: demo_data/labels\n")
    (root / "out").symlink_to(root / "demo_data")
    with pytest.raises(InvalidInput, match="goes through a link"):
        locate(root)


def test_neither_layout_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(InvalidInput, match="it has no 'labels'"):
        locate(tmp_path)


def test_a_broken_tarball_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "demo.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    with pytest.raises(InvalidInput, match=r"^demo data .*demo.tar.gz: not a valid archive"):
        pack_demo_data(broken)
    with pytest.raises(InvalidInput, match="does not exist"):
        pack_demo_data(tmp_path / "absent.tar.gz")
