"""evaluate: metrics of the predictions against the labels, written as MedPerf cubes do.

results.yaml holds nested mappings, a NaN (the positive predictive value at a threshold
no case reaches), a per-case list (which medval must leave out) and a note in words.
"""

import csv
import math
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")


def auc(scores: list[float], labels: list[int]) -> float:
    positives = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    negatives = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def main() -> None:
    params = yaml.safe_load((VOLUMES / "parameters" / "parameters.yaml").read_text())
    with open(VOLUMES / "predictions" / "predictions.csv", newline="") as handle:
        predicted = {row["case_id"]: float(row["probability"]) for row in csv.DictReader(handle)}
    with open(VOLUMES / "labels" / "labels.csv", newline="") as handle:
        truth = {row["case_id"]: int(row["label"]) for row in csv.DictReader(handle)}
    cases = sorted(truth)
    scores = [predicted[case] for case in cases]
    labels = [truth[case] for case in cases]

    def at(threshold: float) -> dict[str, int]:
        calls = [s >= threshold for s in scores]
        return {
            "tp": sum(c and y == 1 for c, y in zip(calls, labels, strict=True)),
            "fp": sum(c and y == 0 for c, y in zip(calls, labels, strict=True)),
            "tn": sum(not c and y == 0 for c, y in zip(calls, labels, strict=True)),
            "fn": sum(not c and y == 1 for c, y in zip(calls, labels, strict=True)),
        }

    cut = at(float(params["threshold"]))
    high = at(float(params["high_risk_threshold"]))
    results = {
        "AUC": round(auc(scores, labels), 6),
        "accuracy": round(ratio(cut["tp"] + cut["tn"], len(cases)), 6),
        "per_class": {
            "event": {"recall": round(ratio(cut["tp"], cut["tp"] + cut["fn"]), 6)},
            "no_event": {"recall": round(ratio(cut["tn"], cut["tn"] + cut["fp"]), 6)},
        },
        "high_risk_ppv": ratio(high["tp"], high["tp"] + high["fp"]),
        "brier_per_case": [round((s - y) ** 2, 6) for s, y in zip(scores, labels, strict=True)],
        "notes": f"threshold {params['threshold']}",
    }
    (VOLUMES / "results" / "results.yaml").write_text(yaml.safe_dump(results, sort_keys=False))


if __name__ == "__main__":
    main()
