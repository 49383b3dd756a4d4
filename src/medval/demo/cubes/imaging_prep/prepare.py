"""Task ``prepare``: each case's scan and label, checked, in the prepared format.

In the cube's workflow it runs once, after the per-case step ``convert``, and puts the
converted cases together (``converted``); run alone on a site's raw data (the one-step
preparation) it checks and converts every case itself. Either way it writes
``images/<case_id>.nii.gz`` (float32, closest canonical RAS+, the true affine),
``cases.csv`` (one column, sorted) and ``acquisition.csv`` (source format, modality and
manufacturer per case, for the statistics; never sent) to the output folder, and
``<case_id>.nii.gz`` (uint8 0/1, the image's grid) to the output labels folder. On raw data
the first problem stops it: one line naming the case, exit code 2, nothing half written
is used.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from converted import IMAGE, LABEL, acquisition_of, converted_cases  # noqa: E402
from volumes import (  # noqa: E402
    ACQUISITION_FILE,
    CASES_FILE,
    IMAGES,
    InputError,
    canonical,
    check_label,
    fail,
    raw_cases,
    read_case,
    read_nifti,
    read_parameters,
)

HERE = Path(__file__).resolve().parent


def prepare(data_path: Path, labels_path: Path, out: Path, out_labels: Path, params) -> int:
    converted = converted_cases(data_path)
    if converted is not None:
        return put_together(converted, out, out_labels)
    cases = raw_cases(data_path)
    if not labels_path.is_dir():
        raise InputError(f"labels folder {labels_path} is not a directory")
    labels = {p.name.removesuffix(".nii.gz") for p in labels_path.glob("*.nii.gz")}
    missing = sorted(set(cases) - labels)
    extra = sorted(labels - set(cases))
    if missing or extra:
        which = f"no label for case {missing[0]}" if missing else f"a label for no case: {extra[0]}"
        raise InputError(which)
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    rows = []
    for case_id, entry in cases.items():
        volume = read_case(entry, case_id, params)
        label, label_affine = read_nifti(labels_path / f"{case_id}.nii.gz", case_id, "label")
        label = check_label(label, label_affine, volume, case_id)
        image = canonical(volume.data.astype(np.float32), volume.affine)
        mask = canonical(label, volume.affine)
        image.set_data_dtype(np.float32)
        mask.set_data_dtype(np.uint8)
        nib.save(image, out / IMAGES / f"{case_id}.nii.gz")
        nib.save(mask, out_labels / f"{case_id}.nii.gz")
        rows.append([case_id, volume.source_format, volume.modality, volume.manufacturer])
    return write_lists(out, rows)


def put_together(converted: dict[str, Path], out: Path, out_labels: Path) -> int:
    """The cases ``convert`` wrote, in the prepared format."""
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    rows = []
    for case_id, folder in converted.items():
        shutil.copyfile(folder / IMAGE, out / IMAGES / f"{case_id}.nii.gz")
        shutil.copyfile(folder / LABEL, out_labels / f"{case_id}.nii.gz")
        rows.append([case_id, *acquisition_of(folder)])
    return write_lists(out, rows)


def write_lists(out: Path, rows: list[list[str]]) -> int:
    (out / CASES_FILE).write_text("case_id\n" + "".join(f"{r[0]}\n" for r in rows))
    with (out / ACQUISITION_FILE).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "source_format", "modality", "manufacturer"])
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--output_labels_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        params = read_parameters(args.parameters_file)
        count = prepare(
            args.data_path, args.labels_path, args.output_path, args.output_labels_path, params
        )
    except (InputError, ValueError) as exc:
        fail("prepare", exc)
    print(f"prepare: ok: {count} cases")


if __name__ == "__main__":
    main()
