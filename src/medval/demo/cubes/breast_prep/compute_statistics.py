"""Task ``statistics``: aggregate statistics of a prepared dataset, never per-case values.

Written to ``statistics.json`` as ``{"n_cases": N, "values": {...}}``. Values are means,
standard deviations, proportions and category counts. Small-cell suppression with
``min_cell_count`` (k, default 10, as a benchmark's), because these numbers leave the hospital:

- a count c may be shown only if c == 0 or c >= k;
- a category count that may not be shown is left out; if that leaves exactly one count
  of a variable hidden, the smallest shown non-zero count is hidden too, so the hidden
  one cannot be recovered as n minus the others;
- a proportion is shown only if both its count and the complement may be shown;
- with fewer than k cases, only ``n_cases`` is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True

from harmonize import InputError, fail, read_parameters, read_prepared  # noqa: E402

HERE = Path(__file__).resolve().parent
STATISTICS_FILE = "statistics.json"
SIZE_KEYS = {"<=20": "up_to_20mm", "20-50": "from_20_to_50mm", ">50": "over_50mm"}
RECEPTOR_POSITIVE = 10  # fmol/mg, the usual cut-off for ER/PR positivity


def _shown(count: int, k: int) -> bool:
    return count == 0 or count >= k


def suppressed_counts(counts: dict[str, int], k: int) -> dict[str, int]:
    hidden = {key for key, c in counts.items() if not _shown(c, k)}
    if len(hidden) == 1:
        rest = [(c, key) for key, c in counts.items() if key not in hidden and c > 0]
        if rest:
            hidden.add(min(rest)[1])
    return {key: c for key, c in counts.items() if key not in hidden}


def statistics(cases, labels, k: int) -> dict:
    n = len(cases)
    values: dict[str, object] = {}
    if n < k:
        return {"n_cases": n, "values": values}

    def proportion(name: str, flags) -> None:
        count = int(flags.sum())
        if _shown(count, k) and _shown(n - count, k):
            values[name] = round(count / n, 4)

    proportion("event_rate", labels["event_5y"] == 1)
    values["mean_age"] = round(float(cases["age"].mean()), 2)
    values["sd_age"] = round(float(cases["age"].std(ddof=1)), 2)
    proportion("proportion_postmenopausal", cases["postmenopausal"] == 1)
    proportion("proportion_node_positive", cases["nodes"] > 0)
    values["mean_nodes"] = round(float(cases["nodes"].mean()), 2)
    proportion("proportion_er_positive", cases["er"] >= RECEPTOR_POSITIVE)
    proportion("proportion_pr_positive", cases["pgr"] >= RECEPTOR_POSITIVE)
    proportion("proportion_hormonal_therapy", cases["hormonal_therapy"] == 1)
    size = {key: int((cases["size_category"] == c).sum()) for c, key in SIZE_KEYS.items()}
    values["size_category"] = suppressed_counts(size, k)
    grade = {f"grade_{g}": int((cases["grade"] == g).sum()) for g in (1, 2, 3)}
    values["grade"] = suppressed_counts(grade, k)
    return {"n_cases": n, "values": values}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        params = read_parameters(args.parameters_file)
        k = int(params.get("min_cell_count", "10"))
        if k < 1:
            raise InputError("min_cell_count must be at least 1")
        cases, labels = read_prepared(args.data_path, args.labels_path)
        if not args.output_path.is_dir():
            raise InputError(f"output folder {args.output_path} is not a directory")
    except (InputError, ValueError) as exc:
        fail("statistics", exc)
    document = statistics(cases, labels, k)
    (args.output_path / STATISTICS_FILE).write_text(json.dumps(document, indent=2) + "\n")
    print(f"statistics: wrote {STATISTICS_FILE} for {document['n_cases']} cases")


if __name__ == "__main__":
    main()
