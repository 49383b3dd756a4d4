"""Task ``convert`` (the workflow's per-case step): one case's scan and label, checked and
converted (see ``converted``), with a PNG overlay for review.

Its data folder holds the one case (a NIfTI file or a DICOM series folder) and its labels
folder the site's labels; it writes ``<case_id>/`` to the output folder. A problem is one
line naming the case, exit code 2: the workflow sets that case aside and goes on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True

from converted import write_converted  # noqa: E402
from volumes import (  # noqa: E402
    InputError,
    check_label,
    fail,
    raw_cases,
    read_case,
    read_nifti,
    read_parameters,
)

HERE = Path(__file__).resolve().parent


def convert(data_path: Path, labels_path: Path, out: Path, params: dict[str, str]) -> str:
    cases = raw_cases(data_path)
    if len(cases) != 1:
        raise InputError(f"convert takes one case at a time, not {len(cases)}")
    [(case_id, entry)] = cases.items()
    label_path = labels_path / f"{case_id}.nii.gz"
    if not label_path.is_file():
        raise InputError(f"no label for case {case_id}")
    volume = read_case(entry, case_id, params)
    label, label_affine = read_nifti(label_path, case_id, "label")
    write_converted(out / case_id, volume, check_label(label, label_affine, volume, case_id))
    return case_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        case_id = convert(
            args.data_path,
            args.labels_path,
            args.output_path,
            read_parameters(args.parameters_file),
        )
    except (InputError, ValueError) as exc:
        fail("convert", exc)
    print(f"convert: ok: {case_id}")


if __name__ == "__main__":
    main()
