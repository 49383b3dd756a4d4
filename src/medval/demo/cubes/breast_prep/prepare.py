"""Task ``prepare``: harmonise a hospital export into the benchmark's prepared format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # the cube folder is read-only; keep it unchanged anyway

from harmonize import (  # noqa: E402
    CASES_FILE,
    LABELS_FILE,
    InputError,
    fail,
    harmonize,
    read_export,
    read_parameters,
)

HERE = Path(__file__).resolve().parent


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
        horizon = int(params.get("horizon_days", "1826"))
        patients, outcomes = read_export(args.data_path, args.labels_path)
        cases, labels, counts = harmonize(patients, outcomes, horizon)
        if len(cases) == 0:
            raise InputError("no case is left after the exclusions; nothing to write")
        for folder in (args.output_path, args.output_labels_path):
            if not folder.is_dir():
                raise InputError(f"output folder {folder} is not a directory")
    except (InputError, ValueError) as exc:
        fail("prepare", exc)
    cases.to_csv(args.output_path / CASES_FILE, index=False)
    labels.to_csv(args.output_labels_path / LABELS_FILE, index=False)
    for key, value in counts.items():
        print(f"prepare: {key.replace('_', ' ')}: {value}")


if __name__ == "__main__":
    main()
