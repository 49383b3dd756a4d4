"""The imaging demo's data: brain masks on real T1 MR scans shipped in packages.

The task is **brain extraction**: a binary mask of the brain in a 3D T1-weighted MR
volume. A case is an axial slab (``slices`` contiguous slices) of one scan, with its
ground-truth mask on the same grid; a site's cases are slabs of ONE scan, evenly spaced
through the brain (not overlapping). Each site is a different real scan:

- ``colin27`` (NIfTI files): the Colin27 T1 (``ch2.nii.gz``, one subject scanned 27
  times and averaged, whole head, 1 mm) of Debian's ``mricron-data``. Ground truth: the
  brain extracted by FSL's BET that MRIcron ships beside it (``ch2bet.nii.gz`` > 0),
  its holes filled in 3D (scipy's ``binary_fill_holes``: the ventricles are brain).
- ``mni152`` (DICOM series, one per case, written here with pydicom, Modality MR,
  Manufacturer ``medval-demo``: no scanner made them): the MNI152 2009a symmetric T1
  template (an average of 152 subjects, 1 mm) of nilearn's wheel, read from the wheel as
  a zip (never installed; pinned by ``cubes/imaging_data.lock``). It is distributed
  already brain-extracted: the skull is gone, so this site differs from the other in
  what it holds, as a site that pre-processed its exports would. Ground truth: grey +
  white matter probability > 0.5 (nilearn's 2009a tissue maps, stored as 0-255), holes
  filled in 3D.

The two ground truths are not the same definition (BET's mask holds the sulcal CSF the
tissue maps leave out): the README says so beside the results. The committee's demo data
(the compatibility test's) is thin slabs of the same Colin27 scan: public, not a site's.
Everything is deterministic: the same packages give the same bytes.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from scipy import ndimage

from medval.core.errors import InvalidInput
from medval.core.hashing import sha256_file
from medval.core.python_environment import read_lock
from medval.demo.imaging_cubes import templates

MRICRON = Path("/usr/share/mricron/templates")
COLIN27 = "colin27"
MNI152 = "mni152"
SITES = {
    COLIN27: "Colin27 T1 (MRIcron), NIfTI; truth: BET's brain mask",
    MNI152: "MNI152 2009a T1 (nilearn), DICOM series; truth: grey + white matter > 0.5",
}
DATA_LOCK = "imaging_data.lock"
_NILEARN_DATA = "nilearn/datasets/data/mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz"
_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class SiteFiles:
    data_path: Path
    labels_path: Path


@dataclass(frozen=True)
class Scan:
    image: np.ndarray  # uint8, RAS+
    truth: np.ndarray  # uint8 0/1
    affine: np.ndarray


def _nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    image = cast(nib.Nifti1Image, nib.load(path))
    return np.asarray(image.dataobj), np.asarray(image.affine, dtype=float)


def colin27(mricron: Path = MRICRON) -> Scan:
    """Colin27 and BET's brain mask, from Debian's mricron-data."""
    for name in ("ch2.nii.gz", "ch2bet.nii.gz"):
        if not (mricron / name).is_file():
            raise InvalidInput(
                f"{mricron / name} is missing: install Debian's mricron-data "
                "(make demo-imaging does, as root)"
            )
    image, affine = _nifti(mricron / "ch2.nii.gz")
    bet, _ = _nifti(mricron / "ch2bet.nii.gz")
    truth = ndimage.binary_fill_holes(bet > 0)
    return Scan(image.astype(np.uint8), truth.astype(np.uint8), affine)


def nilearn_wheel(wheels: Path) -> Path:
    """nilearn's wheel in ``wheels``, its sha256 the one ``imaging_data.lock`` pins."""
    with templates() as folder:
        (pinned,) = read_lock(folder / DATA_LOCK, DATA_LOCK)
    wheel = wheels / f"nilearn-{pinned.version}-py3-none-any.whl"
    if not wheel.is_file():
        raise InvalidInput(f"{wheel} is missing: run make imaging-wheels")
    if sha256_file(wheel) not in pinned.hashes:
        raise InvalidInput(f"{wheel} is not the wheel {DATA_LOCK} pins (its sha256 differs)")
    return wheel


def mni152(wheels: Path) -> Scan:
    """The MNI152 2009a T1 and its grey + white matter mask, from nilearn's wheel."""
    with zipfile.ZipFile(nilearn_wheel(wheels)) as archive:
        images = {
            kind: nib.Nifti1Image.from_bytes(
                gzip.decompress(archive.read(_NILEARN_DATA.format(kind)))
            )
            for kind in ("t1", "gm", "wm")
        }
    tissue = sum(np.asarray(images[k].dataobj, dtype=np.float64) for k in ("gm", "wm")) / 255.0
    truth = ndimage.binary_fill_holes(tissue > 0.5)
    t1 = images["t1"]
    return Scan(
        np.asarray(t1.dataobj).astype(np.uint8),
        truth.astype(np.uint8),
        np.asarray(t1.affine, dtype=float),
    )


def slab_starts(truth: np.ndarray, cases: int, slices: int, offset: int = 0) -> list[int]:
    """First slice of each slab: evenly spaced through the slices holding brain."""
    holding = np.flatnonzero(truth.any(axis=(0, 1)))
    low, high = int(holding[0]) + 4, int(holding[-1]) - 4 - slices
    if (high - low) < cases * slices:
        raise InvalidInput(f"{cases} slabs of {slices} slices do not fit in the brain")
    return [round(float(s)) + offset for s in np.linspace(low, high, cases)]


def _slab_affine(affine: np.ndarray, start: int) -> np.ndarray:
    shifted = affine.copy()
    shifted[:3, 3] = affine[:3, :3] @ np.array([0.0, 0.0, start]) + affine[:3, 3]
    return shifted


def _save(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(data, affine)
    image.set_data_dtype(data.dtype)
    nib.save(image, path)


def write_dicom_series(volume: np.ndarray, affine: np.ndarray, folder: Path, seed: str) -> None:
    """One axial MR series, slice by slice, from a RAS volume (uint8 stored as 16 bit)."""
    folder.mkdir(parents=True)
    lps = _LPS @ affine
    voxel = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    row_dir, column_dir = lps[:3, 0] / voxel[0], lps[:3, 1] / voxel[1]
    series = generate_uid(entropy_srcs=[seed, "series"])
    study = generate_uid(entropy_srcs=[seed, "study"])
    for k in range(volume.shape[2]):
        instance = generate_uid(entropy_srcs=[seed, str(k)])
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = instance
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, instance
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.Manufacturer = "MR", "medval-demo"
        ds.PatientID, ds.PatientName = "MNI152", "MNI152^2009a"
        ds.SeriesDescription = "MNI152 2009a T1 (nilearn), written by medval's demo"
        ds.StudyDate = ds.SeriesDate = "20090101"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{v:.4f}" for v in lps[:3, :3] @ [0, 0, k] + lps[:3, 3]]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in (*row_dir, *column_dir)]
        ds.PixelSpacing = [f"{voxel[1]:.4f}", f"{voxel[0]:.4f}"]  # between rows, columns
        ds.SliceThickness = f"{voxel[2]:.4f}"
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[0]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = "1", "0"
        ds.PixelData = np.ascontiguousarray(volume[:, :, k].T.astype("<u2")).tobytes()
        ds.save_as(folder / f"IM{k + 1:04d}.dcm", enforce_file_format=True)


def write_scan_cases(
    scan: Scan, folder: Path, site: str, starts: list[int], slices: int, dicom: bool
) -> SiteFiles:
    files = SiteFiles(folder / "data", folder / "labels")
    files.data_path.mkdir(parents=True, exist_ok=True)
    files.labels_path.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(starts, 1):
        case_id = f"{site}-{number:03d}"
        affine = _slab_affine(scan.affine, start)
        image = np.ascontiguousarray(scan.image[:, :, start : start + slices])
        truth = np.ascontiguousarray(scan.truth[:, :, start : start + slices])
        if dicom:
            write_dicom_series(image, affine, files.data_path / case_id, f"{site}/{case_id}")
        else:
            _save(image, affine, files.data_path / f"{case_id}.nii.gz")
        _save(truth, affine, files.labels_path / f"{case_id}.nii.gz")
    return files


def write_site(
    name: str, folder: Path, wheels: Path, cases: int = 12, slices: int = 8
) -> SiteFiles:
    """A site's raw export: ``folder/data`` (its scans) and ``folder/labels`` (masks)."""
    if name == COLIN27:
        scan, dicom = colin27(), False
    elif name == MNI152:
        scan, dicom = mni152(wheels), True
    else:
        raise InvalidInput(f"unknown imaging site {name!r}; known: {', '.join(SITES)}")
    starts = slab_starts(scan.truth, cases, slices)
    return write_scan_cases(scan, folder, name, starts, slices, dicom)


def write_demo_data(folder: Path, cases: int = 10, slices: int = 2) -> SiteFiles:
    """The committee's public demo data: thin slabs of the Colin27 scan."""
    scan = colin27()
    starts = slab_starts(scan.truth, cases, slices, offset=slices)
    return write_scan_cases(scan, folder, "demo", starts, slices, dicom=False)
