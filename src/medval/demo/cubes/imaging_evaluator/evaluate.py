"""Task ``evaluate``: segmentation metrics of a model's masks against a site's labels.

Reads ``<case_id>.nii.gz`` from the labels (the prepared labels: uint8 0/1 on the image's
grid, the affine kept) and the predictions (the same, one per label; an ``infer.json`` of
timings may sit beside them). Computes per case dice, hd95 and surface_dice (see
seg_metrics.py), distances in mm from the label's affine: the labels carry the image's
geometry, so the evaluator needs nothing else. Writes ``results.json`` with aggregates only:
n_cases and each metric's mean over the cases with its t interval (no per-case value).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from seg_metrics import dice, hd95, mean_interval, surface_dice  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_FILE = "results.json"
TIMINGS_FILE = "infer.json"


class InputError(Exception):
    pass


def read_parameters(path: Path | None) -> dict[str, str]:
    """A flat ``key: value`` YAML file (comments allowed)."""
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


def _mask(path: Path, case_id: str, what: str):
    try:
        image = nib.load(path)
        data = np.asarray(image.dataobj)
    except Exception:  # nibabel raises many kinds for a damaged file
        raise InputError(f"case {case_id}: the {what} is not a readable NIfTI file") from None
    if data.ndim != 3 or not set(np.unique(data).tolist()) <= {0, 1}:
        raise InputError(f"case {case_id}: the {what} is not a 3D mask of 0 and 1")
    return data.astype(bool), np.asarray(image.affine, dtype=float)


def case_ids(predictions: Path, labels: Path) -> list[str]:
    def ids(folder: Path, allowed: set[str]) -> list[str]:
        if not folder.is_dir():
            raise InputError(f"{folder} is not a directory")
        names = sorted(p.name for p in folder.iterdir())
        strays = [n for n in names if not n.endswith(".nii.gz") and n not in allowed]
        if strays:
            raise InputError(f"{folder.name}: unexpected file {strays[0]}")
        return [n.removesuffix(".nii.gz") for n in names if n.endswith(".nii.gz")]

    label_ids = ids(labels, set())
    predicted = ids(predictions, {TIMINGS_FILE})
    if not label_ids:
        raise InputError("the labels folder holds no cases")
    if predicted != label_ids:
        missing = sorted(set(label_ids) - set(predicted))
        extra = sorted(set(predicted) - set(label_ids))
        raise InputError(
            f"no prediction for case {missing[0]}"
            if missing
            else f"a prediction for no case: {extra[0]}"
        )
    return label_ids


def evaluate(predictions: Path, labels: Path, tolerance: float, confidence: float) -> dict:
    per_case: dict[str, list[float]] = {"dice": [], "hd95": [], "surface_dice": []}
    for case_id in case_ids(predictions, labels):
        truth, affine = _mask(labels / f"{case_id}.nii.gz", case_id, "label")
        guess, guess_affine = _mask(predictions / f"{case_id}.nii.gz", case_id, "prediction")
        if guess.shape != truth.shape or not np.allclose(guess_affine, affine, atol=1e-3):
            raise InputError(f"case {case_id}: the prediction's grid is not the label's")
        spacing = tuple(float(s) for s in np.sqrt((affine[:3, :3] ** 2).sum(axis=0)))
        per_case["dice"].append(dice(guess, truth))
        per_case["hd95"].append(hd95(guess, truth, spacing))
        per_case["surface_dice"].append(surface_dice(guess, truth, spacing, tolerance))
    ranges = {"dice": (0.0, 1.0), "hd95": (0.0, math.inf), "surface_dice": (0.0, 1.0)}
    return {
        "n_cases": len(per_case["dice"]),
        "metrics": {
            name: mean_interval(values, confidence, *ranges[name])
            for name, values in per_case.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predictions", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        params = read_parameters(args.parameters_file)
        tolerance = float(params.get("tolerance_mm", "1.0"))
        confidence = float(params.get("confidence", "0.95"))
        if tolerance < 0 or not 0 < confidence < 1:
            raise InputError("tolerance_mm must be >= 0 and confidence between 0 and 1")
        document = evaluate(args.predictions, args.labels, tolerance, confidence)
    except (InputError, ValueError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    (args.output_path / RESULTS_FILE).write_text(
        json.dumps(document, indent=2, allow_nan=False) + "\n"
    )
    print(f"evaluate: wrote {RESULTS_FILE} for {document['n_cases']} cases")


if __name__ == "__main__":
    main()
