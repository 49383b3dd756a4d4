"""The imaging preparation cube's workflow: ``convert`` per case (with a PNG overlay for
review), then ``prepare`` puts the converted cases together, as the one-step ``prepare``
on the raw data would; in the sandbox, a case that fails is set aside and the others are
prepared, ``--jobs 2`` at a time."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from tests.imaging.cube_scripts import run_script
from tests.imaging.test_prep_checks import AFFINE, SHAPE, _label, _nifti, _volume

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.preparation.workflow_run import workflow_folder
from medval.client.registration import pack_cube
from medval.client.workspace import Workspace
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.demo import imaging_data
from medval.demo.imaging_cubes import PREPARATOR, build_cube
from medval.demo.imaging_data import write_dicom_series
from medval.runner import BubblewrapRunner, Limits

PREP = "imaging_prep"


def _two_cases(tmp_path: Path) -> tuple[Path, Path]:
    """c1 a DICOM series, c2 a NIfTI file, each with its label."""
    data, labels = tmp_path / "data", tmp_path / "labels"
    data.mkdir()
    labels.mkdir()
    write_dicom_series(_volume(), AFFINE, data / "c1", "test")
    _nifti(_volume(), AFFINE, data / "c2.nii.gz")
    for case in ("c1", "c2"):
        _nifti(_label(), AFFINE, labels / f"{case}.nii.gz")
    return data, labels


def _convert(tmp_path: Path, entry: Path, labels: Path) -> tuple[int, str, Path]:
    alone = tmp_path / "input" / entry.name
    alone.mkdir(parents=True)
    (alone / entry.name).symlink_to(entry)
    out = tmp_path / "converted" / entry.name
    out.mkdir(parents=True)
    done = run_script(PREP, "convert.py", data_path=alone, labels_path=labels, output_path=out)
    return done.returncode, done.stderr, out


def _prepare(tmp_path: Path, name: str, data: Path, labels: Path) -> tuple[Path, Path]:
    out, out_labels = tmp_path / name / "data", tmp_path / name / "labels"
    out.mkdir(parents=True)
    out_labels.mkdir(parents=True)
    done = run_script(
        PREP, "prepare.py", data_path=data, labels_path=labels, output_path=out,
        output_labels_path=out_labels,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "prepare: ok: 2 cases\n"), done.stderr
    return out, out_labels


def _png(data: bytes) -> tuple[int, int, np.ndarray]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + length])
    rows = [raw[r * (1 + 3 * width) + 1 : (r + 1) * (1 + 3 * width)] for r in range(height)]
    pixels = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, 3)
    return width, height, pixels


def test_converted_cases_prepare_as_the_raw_data_does(tmp_path: Path) -> None:
    data, labels = _two_cases(tmp_path)
    for entry in sorted(data.iterdir()):
        code, stderr, _ = _convert(tmp_path, entry, labels)
        assert code == 0, stderr
    converted = tmp_path / "all-converted"
    converted.mkdir()
    for entry, case in (("c1", "c1"), ("c2.nii.gz", "c2")):
        (converted / case).symlink_to(tmp_path / "converted" / entry / case)
    assert sorted(p.name for p in (converted / "c1").iterdir()) == [
        "acquisition.json", "image.nii.gz", "label.nii.gz", "overlay.png"
    ]  # fmt: skip

    by_workflow = _prepare(tmp_path, "workflow", converted, labels)
    in_one_step = _prepare(tmp_path, "one-step", data, labels)
    for one, other in zip(by_workflow, in_one_step, strict=True):
        assert sorted(p.name for p in one.rglob("*")) == sorted(p.name for p in other.rglob("*"))
        for path in one.rglob("*.nii.gz"):
            a, b = nib.load(path), nib.load(other / path.relative_to(one))
            assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))
            assert np.allclose(a.affine, b.affine) and a.get_data_dtype() == b.get_data_dtype()
    for listing in ("cases.csv", "acquisition.csv"):
        assert (by_workflow[0] / listing).read_text() == (in_one_step[0] / listing).read_text()
    assert "c2,nifti,unknown,unknown" in (by_workflow[0] / "acquisition.csv").read_text()

    # The overlay: the middle axial slice, superior up, the mask's voxels in red.
    width, height, pixels = _png((converted / "c2" / "overlay.png").read_bytes())
    assert (width, height) == (SHAPE[0], SHAPE[1])
    middle = np.rot90(_label()[:, :, SHAPE[2] // 2]).astype(bool)
    assert middle.any() and not middle.all()
    red, green, blue = (pixels[..., channel].astype(int) for channel in range(3))
    assert (red[middle] == 255).all() and (green[middle] * 2 <= 255).all()
    assert (red[~middle] == green[~middle]).all() and (green[~middle] == blue[~middle]).all()
    assert green[~middle].max() == 255  # the slice's brightest voxel, outside the mask


def test_a_case_convert_cannot_read_is_one_line(tmp_path: Path) -> None:
    data, labels = _two_cases(tmp_path)
    (labels / "c2.nii.gz").unlink()
    code, stderr, out = _convert(tmp_path, data / "c2.nii.gz", labels)
    assert (code, stderr) == (2, "convert: error: no label for case c2\n")
    assert list(out.iterdir()) == []


@pytest.mark.sandbox
def test_the_imaging_prep_workflow_sets_a_bad_case_aside_in_the_sandbox(
    tmp_path: Path, wheels: Path, machine_environments: Path
) -> None:
    site = imaging_data.write_site(
        imaging_data.COLIN27, tmp_path / "site", wheels, cases=4, slices=2
    )
    data, labels = site.data_path, site.labels_path
    broken = sorted(data.iterdir())[1]
    broken.write_bytes(b"not a NIfTI file")
    packed = pack_cube(build_cube(PREPARATOR, tmp_path / "cubes", wheels))
    workspace = Workspace(tmp_path / "home", shared_environments=machine_environments)
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(packed.sha256).write_bytes(packed.archive)
    cube = CubePublic(
        id=2, name=PREPARATOR, kind=CubeKind.DATA_PREPARATOR, archive_hash=packed.sha256,
        owner_id=1, owner="committee", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip
    said: list[str] = []

    class Said:
        def step(self, message: str) -> None:
            said.append(message)

        def done(self, message: str, seconds: float) -> None:
            return None

    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    executor = Executor(client, workspace, BubblewrapRunner(), Limits(), progress=Said())
    out = workspace.dataset_dir("site")
    _, statistics = executor.prepare(cube, data, labels, out, benchmark_k=1, jobs=2)
    kept = sorted(p.name.removesuffix(".nii.gz") for p in data.iterdir() if p != broken)
    assert (out / "data" / "cases.csv").read_text() == "case_id\n" + "".join(
        f"{case}\n" for case in kept
    )
    assert statistics.document.n_cases == 3
    case = broken.name.removesuffix(".nii.gz")
    assert any(
        line.startswith(f"case {broken.name} set aside at step convert: ")
        and f"convert: error: case {case}:" in line
        for line in said
    ), said
    overlays = sorted(workflow_folder(out).glob("steps/convert/cases/*/data/*/overlay.png"))
    assert len(overlays) == 3
