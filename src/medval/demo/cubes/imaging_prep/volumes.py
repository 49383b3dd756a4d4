"""Reading and checking a site's scans: a DICOM series (pydicom) or a NIfTI file (nibabel).

A site's raw data folder holds, per case, either ``<case_id>.nii.gz`` (or ``.nii``) or a
folder ``<case_id>/`` with the DICOM files of one series; its labels folder holds
``<case_id>.nii.gz``, a binary mask on the image's grid. Every problem found is one line
(:class:`InputError`) that names the case and what is wrong; the task exits with 2.

A DICOM series' geometry comes from its own tags (ImagePositionPatient,
ImageOrientationPatient, PixelSpacing), in DICOM's patient coordinates (LPS), turned into
a NIfTI affine (RAS) here: the usual conversion, written out because the series' checks
(mixed series, missing slices) need the same numbers.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NIFTI_SUFFIXES = (".nii.gz", ".nii")
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
CASES_FILE = "cases.csv"
ACQUISITION_FILE = "acquisition.csv"
IMAGES = "images"


class InputError(Exception):
    pass


def fail(task: str, exc: Exception) -> None:
    print(f"{task}: error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def read_parameters(path: Path | None) -> dict[str, str]:
    """A flat ``key: value`` YAML file (comments allowed): no YAML library is needed."""
    if path is None:
        return {}
    if not path.is_file():
        raise InputError(f"parameters file {path} does not exist")
    params: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition(":")
            params[key.strip()] = value.strip()
    return params


@dataclass(frozen=True)
class Volume:
    """One case's image, on its own grid, with where it came from."""

    data: np.ndarray
    affine: np.ndarray
    source_format: str  # dicom | nifti
    modality: str
    manufacturer: str


def raw_cases(data_path: Path) -> dict[str, Path]:
    """Case id -> its NIfTI file or DICOM folder, sorted by id."""
    if not data_path.is_dir():
        raise InputError(f"data folder {data_path} is not a directory")
    found: dict[str, Path] = {}
    for entry in sorted(data_path.iterdir()):
        if entry.is_dir():
            case_id = entry.name
        elif entry.name.endswith(NIFTI_SUFFIXES):
            case_id = entry.name.removesuffix(".gz").removesuffix(".nii")
        else:
            raise InputError(f"{entry.name}: neither a NIfTI file nor a DICOM series folder")
        if not CASE_ID.match(case_id):
            raise InputError(f"{entry.name}: not a valid case id")
        if case_id in found:
            raise InputError(f"case {case_id}: given twice ({found[case_id].name}, {entry.name})")
        found[case_id] = entry
    if not found:
        raise InputError(f"data folder {data_path} holds no cases")
    return found


def read_nifti(path: Path, case_id: str, what: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """A 3D volume and its affine; a wrong (singular or non-finite) affine is refused."""
    try:
        image = nib.load(path)
        data = np.asarray(image.dataobj)
    except Exception as exc:  # nibabel raises many kinds for a damaged file
        raise InputError(f"case {case_id}: the {what} is not a readable NIfTI file") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(f"case {case_id}: the {what} is {data.ndim}D, not a 3D volume")
    affine = np.asarray(image.affine, dtype=np.float64)
    check_affine(affine, case_id, what)
    return data, affine


def check_affine(affine: np.ndarray, case_id: str, what: str) -> None:
    linear = affine[:3, :3]
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(linear)) < 1e-6:
        raise InputError(f"case {case_id}: the {what}'s affine is singular or not finite")


def spacing(affine: np.ndarray) -> np.ndarray:
    """Voxel size (mm) along each array axis."""
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))


def check_spacing(affine: np.ndarray, case_id: str, max_spacing: float) -> None:
    sizes = spacing(affine)
    if np.any(sizes > max_spacing):
        shown = " x ".join(f"{s:g}" for s in sizes)
        raise InputError(
            f"case {case_id}: voxel spacing {shown} mm is coarser than {max_spacing:g} mm"
        )


def read_dicom_series(folder: Path, case_id: str, gap_factor: float) -> Volume:
    """One series' slices as a volume (x, y, slice), checked: one series, one geometry,
    evenly spaced slices with none missing."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if len(files) < 2:
        raise InputError(f"case {case_id}: a DICOM series needs at least 2 slices")
    slices = []
    for path in files:
        try:
            ds = pydicom.dcmread(path)
            pixels = ds.pixel_array
        except (InvalidDicomError, Exception):  # a damaged file fails in many ways
            raise InputError(f"case {case_id}: {path.name} is not a readable DICOM file") from None
        slices.append((ds, pixels))
    first = slices[0][0]
    for key in ("SeriesInstanceUID", "Rows", "Columns", "PixelSpacing", "ImageOrientationPatient"):
        values = {str(getattr(ds, key, None)) for ds, _ in slices}
        if len(values) > 1:
            raise InputError(f"case {case_id}: mixed series: the slices differ in {key}")
    try:
        orientation = np.array([float(v) for v in first.ImageOrientationPatient])
        row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
        positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds, _ in slices])
    except (AttributeError, ValueError, TypeError):
        raise InputError(f"case {case_id}: the series lacks its position or orientation") from None
    row_dir, column_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, column_dir)
    order = np.argsort(positions @ normal, kind="stable")
    distances = np.diff((positions @ normal)[order])
    if np.any(distances < 1e-3):
        raise InputError(f"case {case_id}: two slices are at the same position")
    usual = float(np.median(distances))
    if np.any(distances > gap_factor * usual):
        raise InputError(
            f"case {case_id}: missing slice: a gap of {distances.max():g} mm "
            f"where slices are {usual:g} mm apart"
        )
    if distances.max() - distances.min() > 0.01 * usual + 1e-3:
        raise InputError(f"case {case_id}: mixed spacing: slices are unevenly spaced")
    step = (positions[order[-1]] - positions[order[0]]) / (len(order) - 1)
    lps = np.eye(4)
    # Array axis 0 runs along a row (columns), axis 1 down the columns (rows), 2 the slices.
    lps[:3, 0] = row_dir * column_spacing
    lps[:3, 1] = column_dir * row_spacing
    lps[:3, 2] = step
    lps[:3, 3] = positions[order[0]]
    stack = []
    for index in order:
        ds, pixels = slices[index]
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
        stack.append(pixels.astype(np.float32).T * slope + intercept)
    affine = LPS_TO_RAS @ lps
    check_affine(affine, case_id, "image")
    return Volume(
        data=np.stack(stack, axis=2).astype(np.float32),
        affine=affine,
        source_format="dicom",
        modality=str(getattr(first, "Modality", "") or "unknown"),
        manufacturer=str(getattr(first, "Manufacturer", "") or "unknown"),
    )


def read_case(entry: Path, case_id: str, params: dict[str, str]) -> Volume:
    if entry.is_dir():
        volume = read_dicom_series(entry, case_id, float(params.get("gap_factor", "1.5")))
    else:
        data, affine = read_nifti(entry, case_id)
        volume = Volume(data.astype(np.float32), affine, "nifti", "unknown", "unknown")
    check_spacing(volume.affine, case_id, float(params.get("max_spacing_mm", "5")))
    return volume


def canonical(data: np.ndarray, affine: np.ndarray) -> nib.Nifti1Image:
    """The closest canonical (RAS+) orientation, the true affine kept."""
    return nib.as_closest_canonical(nib.Nifti1Image(data, affine))


def check_label(
    label: np.ndarray, label_affine: np.ndarray, image: Volume, case_id: str
) -> np.ndarray:
    """The label as uint8 0/1 on the image's grid, or one line saying why not."""
    if nib.aff2axcodes(label_affine) != nib.aff2axcodes(image.affine):
        raise InputError(
            f"case {case_id}: orientation: the label is {''.join(nib.aff2axcodes(label_affine))}"
            f", the image {''.join(nib.aff2axcodes(image.affine))}"
        )
    if label.shape != image.data.shape or not np.allclose(label_affine, image.affine, atol=1e-3):
        raise InputError(f"case {case_id}: the label's grid (shape or affine) is not the image's")
    values = np.unique(label)
    if not set(values.tolist()) <= {0, 1}:
        raise InputError(f"case {case_id}: the label holds values other than 0 and 1")
    return label.astype(np.uint8)


def read_prepared(data_path: Path, labels_path: Path) -> list[str]:
    """The case ids of a prepared dataset, after checking every file of the format."""
    cases_file = data_path / CASES_FILE
    if not cases_file.is_file():
        raise InputError(f"{CASES_FILE} is missing from {data_path}")
    lines = cases_file.read_text().split()
    if not lines or lines[0] != "case_id":
        raise InputError(f"{CASES_FILE} must have the single column case_id")
    cases = lines[1:]
    if not cases or cases != sorted(set(cases)):
        raise InputError(f"{CASES_FILE} must list at least one case, sorted, each once")
    for case_id in cases:
        image_path = data_path / IMAGES / f"{case_id}.nii.gz"
        label_path = labels_path / f"{case_id}.nii.gz"
        for path in (image_path, label_path):
            if not path.is_file():
                raise InputError(f"case {case_id}: {path.name} is missing")
        image = nib.load(image_path)
        label = nib.load(label_path)
        if nib.aff2axcodes(image.affine) != ("R", "A", "S"):
            raise InputError(f"case {case_id}: the prepared image is not in RAS+ orientation")
        if image.shape != label.shape or not np.allclose(image.affine, label.affine, atol=1e-3):
            raise InputError(f"case {case_id}: the prepared label's grid is not the image's")
    return cases
