"""Task ``evaluate``: metrics of a model's predictions against a site's labels.

Reads ``predictions.csv`` (case_id, probability) and ``labels.csv`` (case_id and the label
column), writes ``results.json`` with aggregates only: n_cases, n_positive and each
metric with its 95% interval (see metrics.py). The case ids of predictions and labels
must match exactly. For each subgroup column of the labels that the parameters name
(``subgroups``), the same for each of its levels, under ``subgroups`` (medval withholds a
level too small to send before the data owner's review, not this script).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from metrics import evaluate  # noqa: E402

HERE = Path(__file__).resolve().parent
# Every metric it reports, as the benchmark declares them (../declarations.yaml).
METRICS = (
    "auroc",
    "sensitivity",
    "specificity",
    "brier",
    "calibration_slope",
    "calibration_intercept",
    "oe_ratio",
)
PREDICTIONS_FILE = "predictions.csv"
LABELS_FILE = "labels.csv"
RESULTS_FILE = "results.json"


class InputError(Exception):
    pass


def read_parameters(path: Path | None) -> dict[str, str]:
    """A flat ``key: value`` YAML file (comments allowed); no YAML library in the sandbox."""
    if path is None:
        return {}
    if not path.is_file():
        raise InputError(f"parameters file {path} does not exist")
    params: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition(":")
            if not sep:
                raise InputError(f"{path}: expected 'key: value', got {line!r}")
            params[key.strip()] = value.strip().strip("'\"")
    return params


def read_csv(folder: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a directory")
    path = folder / name
    if not path.is_file():
        raise InputError(f"{name} not found in {folder}")
    try:
        frame = pd.read_csv(path, dtype={"case_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{name} is not a readable CSV file ({exc.__class__.__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{name} lacks column(s): {', '.join(missing)}")
    if frame["case_id"].isna().any() or frame["case_id"].duplicated().any():
        raise InputError(f"{name} has missing or duplicated case ids")
    return frame


def load(predictions_dir: Path, labels_dir: Path, label_column: str, groups: tuple[str, ...]):
    predictions = read_csv(predictions_dir, PREDICTIONS_FILE, ("case_id", "probability"))
    labels = read_csv(labels_dir, LABELS_FILE, ("case_id", label_column, *groups))
    only_predicted = len(set(predictions["case_id"]) - set(labels["case_id"]))
    only_labelled = len(set(labels["case_id"]) - set(predictions["case_id"]))
    if only_predicted or only_labelled:
        raise InputError(
            f"case ids of predictions and labels do not match: {only_predicted} prediction(s) "
            f"without a label, {only_labelled} label(s) without a prediction"
        )
    if len(labels) == 0:
        raise InputError("there are no cases to evaluate")
    joined = labels.merge(predictions, on="case_id", how="inner")
    p = pd.to_numeric(joined["probability"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise InputError("every probability must be a number between 0 and 1")
    y = pd.to_numeric(joined[label_column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise InputError(f"every {label_column} must be 0 or 1")
    return y.astype(int), p, joined[list(groups)].astype(str)


def clean(metrics: dict) -> dict:
    """Every declared metric (null where not computable); never NaN or infinity."""
    for name in METRICS:  # the benchmark declares them all: one not computable is null
        metrics.setdefault(name, {"value": None, "lower": None, "upper": None})
    for name in list(metrics):
        if metrics[name]["value"] is None or not math.isfinite(metrics[name]["value"]):
            metrics[name] = {"value": None, "lower": None, "upper": None}
            continue
        for key in ("lower", "upper"):
            if metrics[name][key] is not None and not math.isfinite(metrics[name][key]):
                metrics[name][key] = None
    return metrics


def by_subgroup(y: np.ndarray, p: np.ndarray, groups: pd.DataFrame, threshold: float) -> dict:
    """variable -> level -> that level's counts and metrics, levels in sorted order."""
    found: dict[str, dict] = {}
    for variable in groups.columns:
        levels = groups[variable].to_numpy()
        found[variable] = {}
        for level in sorted(set(levels)):
            mask = levels == level
            part = evaluate(y[mask], p[mask], threshold)
            part["metrics"] = clean(part["metrics"])
            found[variable][level] = part
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predictions", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        params = read_parameters(args.parameters_file)
        threshold = float(params.get("threshold", "0.3"))
        if not 0 < threshold < 1:
            raise InputError("threshold must be between 0 and 1")
        groups = tuple(g.strip() for g in params.get("subgroups", "").split(",") if g.strip())
        label_column = params.get("label_column", "event_5y")
        y, p, levels = load(args.predictions, args.labels, label_column, groups)
        if not args.output_path.is_dir():
            raise InputError(f"output folder {args.output_path} is not a directory")
        document = evaluate(y, p, threshold)
        document["metrics"] = clean(document["metrics"])
        if groups:
            document["subgroups"] = by_subgroup(y, p, levels, threshold)
    except (InputError, ValueError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    text = json.dumps(document, indent=2, allow_nan=False)  # in the metrics' own order
    (args.output_path / RESULTS_FILE).write_text(text + "\n")
    print(f"evaluate: wrote {RESULTS_FILE} for {document['n_cases']} cases")


if __name__ == "__main__":
    main()
