"""The imaging preparation cube's checks: each bad input is one line and exit code 2;
a good DICOM series and NIfTI file come out in the prepared format (RAS+, the true affine)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from tests.imaging.cube_scripts import run_script

from medval.demo.imaging_data import write_dicom_series

PREP = "imaging_prep"
SHAPE = (8, 6, 5)
AFFINE = np.array([[1.0, 0, 0, -4], [0, 0.5, 0, -3], [0, 0, 1.0, 10], [0, 0, 0, 1]])


def _volume() -> np.ndarray:
    return (np.arange(np.prod(SHAPE)) % 200).reshape(SHAPE).astype(np.uint8)


def _label() -> np.ndarray:
    label = np.zeros(SHAPE, dtype=np.uint8)
    label[2:6, 1:4, 1:4] = 1
    return label


def _nifti(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    nib.save(nib.Nifti1Image(data, affine), path)


def _site(tmp_path: Path, dicom: bool = True) -> tuple[Path, Path]:
    data, labels = tmp_path / "data", tmp_path / "labels"
    data.mkdir()
    labels.mkdir()
    if dicom:
        write_dicom_series(_volume(), AFFINE, data / "c1", "test")
    else:
        _nifti(_volume(), AFFINE, data / "c1.nii.gz")
    _nifti(_label(), AFFINE, labels / "c1.nii.gz")
    return data, labels


def _prepare(tmp_path: Path, data: Path, labels: Path):
    out, out_labels = tmp_path / "out", tmp_path / "out-labels"
    out.mkdir()
    out_labels.mkdir()
    return (
        run_script(
            PREP,
            "prepare.py",
            data_path=data,
            labels_path=labels,
            output_path=out,
            output_labels_path=out_labels,
        ),
        out,
        out_labels,
    )


def _refused(tmp_path: Path, data: Path, labels: Path, line: str) -> None:
    done, _, _ = _prepare(tmp_path, data, labels)
    assert (done.returncode, done.stderr) == (2, f"prepare: error: {line}\n")


@pytest.mark.parametrize("dicom", [True, False])
def test_a_good_series_or_file_is_prepared_on_its_true_grid(tmp_path: Path, dicom: bool) -> None:
    data, labels = _site(tmp_path, dicom)
    done, out, out_labels = _prepare(tmp_path, data, labels)
    assert (done.returncode, done.stdout) == (0, "prepare: ok: 1 cases\n"), done.stderr
    image = nib.load(out / "images" / "c1.nii.gz")
    label = nib.load(out_labels / "c1.nii.gz")
    assert image.get_data_dtype() == np.float32 and label.get_data_dtype() == np.uint8
    assert np.allclose(image.affine, AFFINE, atol=1e-4)
    assert np.array_equal(np.asarray(image.dataobj), _volume().astype(np.float32))
    assert np.array_equal(np.asarray(label.dataobj), _label())
    assert (out / "cases.csv").read_text() == "case_id\nc1\n"
    done = run_script(PREP, "sanity_check.py", data_path=out, labels_path=out_labels)
    assert (done.returncode, done.stdout) == (0, "sanity_check: ok: 1 cases\n")


def test_a_corrupt_dicom_file(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    (data / "c1" / "IM0003.dcm").write_bytes(b"not a DICOM file at all")
    _refused(tmp_path, data, labels, "case c1: IM0003.dcm is not a readable DICOM file")


def test_a_truncated_dicom_file(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    path = data / "c1" / "IM0002.dcm"
    path.write_bytes(path.read_bytes()[:-40])
    _refused(tmp_path, data, labels, "case c1: IM0002.dcm is not a readable DICOM file")


def _edit_slice(data: Path, name: str, **tags: object) -> None:
    path = data / "c1" / name
    ds = pydicom.dcmread(path)
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)


def test_a_slice_of_another_series(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    _edit_slice(data, "IM0004.dcm", SeriesInstanceUID=pydicom.uid.generate_uid())
    _refused(
        tmp_path, data, labels, "case c1: mixed series: the slices differ in SeriesInstanceUID"
    )


def test_a_slice_with_other_pixel_spacing(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    _edit_slice(data, "IM0001.dcm", PixelSpacing=["0.7", "1.0"])
    _refused(tmp_path, data, labels, "case c1: mixed series: the slices differ in PixelSpacing")


def test_unevenly_spaced_slices(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    _edit_slice(data, "IM0004.dcm", ImagePositionPatient=["4", "3", "13.3"])
    _refused(tmp_path, data, labels, "case c1: mixed spacing: slices are unevenly spaced")


def test_a_missing_slice(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    (data / "c1" / "IM0003.dcm").unlink()
    _refused(
        tmp_path, data, labels, "case c1: missing slice: a gap of 2 mm where slices are 1 mm apart"
    )


def test_a_singular_affine(tmp_path: Path) -> None:
    data, labels = _site(tmp_path, dicom=False)
    singular = AFFINE.copy()
    singular[:3, 2] = 0
    image = nib.Nifti1Image(_volume(), None)  # nibabel will not write it as a qform
    image.header.set_sform(singular, code=1)
    nib.save(image, data / "c1.nii.gz")
    _refused(tmp_path, data, labels, "case c1: the image's affine is singular or not finite")


def test_a_label_in_another_orientation(tmp_path: Path) -> None:
    data, labels = _site(tmp_path, dicom=False)
    flipped = AFFINE @ np.diag([-1.0, 1, 1, 1])
    flipped[0, 3] = AFFINE[0, 3] + (SHAPE[0] - 1)
    _nifti(_label()[::-1].copy(), flipped, labels / "c1.nii.gz")
    _refused(tmp_path, data, labels, "case c1: orientation: the label is LAS, the image RAS")


def test_a_label_on_another_grid(tmp_path: Path) -> None:
    data, labels = _site(tmp_path, dicom=False)
    _nifti(_label()[:, :, :4].copy(), AFFINE, labels / "c1.nii.gz")
    _refused(
        tmp_path, data, labels, "case c1: the label's grid (shape or affine) is not the image's"
    )


def test_a_coarse_spacing(tmp_path: Path) -> None:
    data, labels = _site(tmp_path, dicom=False)
    coarse = np.diag([8.0, 1.0, 1.0, 1.0])
    _nifti(_volume(), coarse, data / "c1.nii.gz")
    _nifti(_label(), coarse, labels / "c1.nii.gz")
    _refused(tmp_path, data, labels, "case c1: voxel spacing 8 x 1 x 1 mm is coarser than 5 mm")


def test_a_case_without_label(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    (labels / "c1.nii.gz").rename(labels / "c2.nii.gz")
    _refused(tmp_path, data, labels, "no label for case c1")


def test_a_prepared_dataset_missing_a_label_fails_the_sanity_check(tmp_path: Path) -> None:
    data, labels = _site(tmp_path)
    _, out, out_labels = _prepare(tmp_path, data, labels)
    (out_labels / "c1.nii.gz").unlink()
    done = run_script(PREP, "sanity_check.py", data_path=out, labels_path=out_labels)
    assert (done.returncode, done.stderr) == (
        2,
        "sanity_check: error: case c1: c1.nii.gz is missing\n",
    )
