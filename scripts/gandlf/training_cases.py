"""GaNDLF's training and validation cases: axial slices the imaging benchmark never scores.

    PYTHONPATH=src python scripts/gandlf/training_cases.py OUT

Runs on medval's own Python (it uses medval's imaging data builder,
:mod:`medval.demo.imaging_data`). Both scans of the imaging benchmark are read as the
benchmark's sites are built (Colin27 from Debian's mricron-data, MNI152 from nilearn's
wheel in ``--wheels``); a case here is ONE axial slice (2D, written as an X x Y x 1 NIfTI
with that slice's affine), float32 image and uint8 {0, 1} mask, the prepared format's types.
Only slices outside every slab the benchmark scores are used: the Colin27 site's 12 slabs
of 8 slices, the MNI152 site's 12 slabs of 8, and the committee's demo data (10 slabs of 2
of Colin27). So training and scoring share the two subjects but not one slice: the Dice
the benchmark then reports is on unseen slices of seen subjects, not on new subjects.

Writes ``OUT/cases/<id>/{image,label}.nii.gz`` and GaNDLF's data CSVs ``OUT/train.csv``
and ``OUT/validation.csv`` (every fifteenth slice of each scan validates), with GaNDLF's
column names (SubjectID, Channel_0, Label).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import nibabel as nib
import numpy as np

from medval.demo import imaging_data


def scored_slices(truth: np.ndarray, cases: int, slices: int, offset: int = 0) -> set[int]:
    """The slices of the slabs the benchmark builds with these arguments."""
    starts = imaging_data.slab_starts(truth, cases, slices, offset)
    return {start + k for start in starts for k in range(slices)}


def free_slices(scan: imaging_data.Scan, scored: set[int]) -> list[int]:
    """Slices holding brain that no scored slab holds."""
    holding = np.flatnonzero(scan.truth.any(axis=(0, 1)))
    return [int(z) for z in holding if int(z) not in scored]


def _save(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(data, affine)
    image.set_data_dtype(data.dtype)
    image.header.set_xyzt_units("mm")
    nib.save(image, path)


def write_slices(scan: imaging_data.Scan, site: str, slices: list[int], out: Path) -> list[str]:
    canonical = nib.as_closest_canonical(nib.Nifti1Image(scan.image, scan.affine))
    if not np.allclose(canonical.affine, scan.affine):
        raise SystemExit(f"{site}: the scan is not stored RAS+; slices would not match")
    ids = []
    for z in slices:
        case_id = f"{site}-z{z:03d}"
        folder = out / "cases" / case_id
        folder.mkdir(parents=True)
        affine = scan.affine.copy()
        affine[:3, 3] = scan.affine[:3, :3] @ np.array([0.0, 0.0, z]) + scan.affine[:3, 3]
        image = scan.image[:, :, z : z + 1].astype(np.float32)
        _save(np.ascontiguousarray(image), affine, folder / "image.nii.gz")
        _save(np.ascontiguousarray(scan.truth[:, :, z : z + 1]), affine, folder / "label.nii.gz")
        ids.append(case_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--wheels", type=Path, default=Path(".imaging-wheels"))
    args = parser.parse_args()
    colin = imaging_data.colin27()
    mni = imaging_data.mni152(args.wheels)
    # The same arguments as imaging_data.write_site and write_demo_data.
    colin_scored = scored_slices(colin.truth, 12, 8) | scored_slices(colin.truth, 10, 2, 2)
    mni_scored = scored_slices(mni.truth, 12, 8)
    rows: dict[str, list[tuple[str, str, str]]] = {"train": [], "validation": []}
    for site, scan, scored in (
        (imaging_data.COLIN27, colin, colin_scored),
        (imaging_data.MNI152, mni, mni_scored),
    ):
        ids = write_slices(scan, site, free_slices(scan, scored), args.out)
        for number, case_id in enumerate(ids):
            folder = (args.out / "cases" / case_id).resolve()
            split = "validation" if number % 15 == 7 else "train"
            rows[split].append(
                (case_id, str(folder / "image.nii.gz"), str(folder / "label.nii.gz"))
            )
    for split, split_rows in rows.items():
        with (args.out / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["SubjectID", "Channel_0", "Label"])
            writer.writerows(split_rows)
        print(f"{split}: {len(split_rows)} slices -> {args.out / f'{split}.csv'}")


if __name__ == "__main__":
    main()
