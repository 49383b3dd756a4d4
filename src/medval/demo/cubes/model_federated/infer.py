"""Task ``infer``: 5-year risk of recurrence or death from a federated logistic model.

``final_model.npz`` is the training's final model, byte for byte as its ServerApp wrote it:
``features`` (names), ``mean`` and ``scale`` (the standardisation), ``intercept`` and
``coefficients`` (on the standardised scale). Read without unpickling anything.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from features import FEATURES, PREDICTIONS_FILE, InputError, design_matrix, read_cases  # noqa: E402

HERE = Path(__file__).resolve().parent
WEIGHTS_FILE = HERE / "final_model.npz"
KEYS = ("features", "mean", "scale", "intercept", "coefficients")


def load_weights(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"{path.name} is missing: this is a template, build the model")
    try:
        with np.load(path, allow_pickle=False) as archive:
            weights = {key: archive[key] for key in KEYS}
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path.name} is not a final model ({exc.__class__.__name__})") from None
    names = [str(name) for name in weights["features"]]
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise InputError(f"{path.name} uses unknown feature(s): {', '.join(unknown)}")
    sizes = {len(names), *(np.size(weights[k]) for k in ("mean", "scale", "coefficients"))}
    if len(sizes) != 1 or np.size(weights["intercept"]) != 1:
        raise InputError(f"{path.name} has arrays of different lengths")
    return {
        "features": names,
        "mean": weights["mean"].astype(float),
        "scale": weights["scale"].astype(float),
        "intercept": float(weights["intercept"]),
        "coefficients": weights["coefficients"].astype(float),
    }


def predict(weights: dict, cases: pd.DataFrame) -> np.ndarray:
    x = design_matrix(cases)
    index = [FEATURES.index(name) for name in weights["features"]]
    z = (x[:, index] - weights["mean"]) / weights["scale"]
    eta = weights["intercept"] + z @ weights["coefficients"]
    return 1 / (1 + np.exp(-eta))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        weights = load_weights(WEIGHTS_FILE)
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
