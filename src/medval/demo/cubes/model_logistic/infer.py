"""Task ``infer``: 5-year risk of recurrence or death from a logistic model.

``weights.json`` holds the features used, their standardisation (mean, scale), the
coefficients on the standardised scale and the intercept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from features import FEATURES, PREDICTIONS_FILE, InputError, design_matrix, read_cases  # noqa: E402

HERE = Path(__file__).resolve().parent
WEIGHTS_FILE = HERE / "weights.json"


def predict(weights: dict, cases: pd.DataFrame) -> np.ndarray:
    x = design_matrix(cases)
    index = [FEATURES.index(name) for name in weights["features"]]
    z = (x[:, index] - np.array(weights["mean"])) / np.array(weights["scale"])
    eta = weights["intercept"] + z @ np.array(weights["coefficients"])
    return 1 / (1 + np.exp(-eta))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if not WEIGHTS_FILE.is_file():
            raise InputError("weights.json is missing: this is a template, build the model")
        weights = json.loads(WEIGHTS_FILE.read_text())
        cases = read_cases(args.data_path)
        probability = predict(weights, cases)
        if not args.output_path.is_dir():
            raise InputError(f"output folder {args.output_path} is not a directory")
    except InputError as exc:
        print(f"infer: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    out = pd.DataFrame({"case_id": cases["case_id"], "probability": probability})
    out.to_csv(args.output_path / PREDICTIONS_FILE, index=False, float_format="%.6f")
    print(f"infer: wrote {PREDICTIONS_FILE} for {len(out)} cases")


if __name__ == "__main__":
    main()
