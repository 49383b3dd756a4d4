"""Task ``infer``: 5-year risk of recurrence or death from a gradient-boosting model.

``model.pkl`` is a pickled scikit-learn HistGradientBoostingClassifier fitted on the
columns of features.FEATURES. It is unpickled only here, inside the sandbox.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import pandas as pd  # noqa: E402
from features import PREDICTIONS_FILE, InputError, design_matrix, read_cases  # noqa: E402

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "model.pkl"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if not MODEL_FILE.is_file():
            raise InputError("model.pkl is missing: this is a template, build the model")
        model = pickle.loads(MODEL_FILE.read_bytes())
        cases = read_cases(args.data_path)
        probability = model.predict_proba(design_matrix(cases))[:, 1]
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
