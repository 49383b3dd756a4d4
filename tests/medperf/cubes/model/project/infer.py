"""infer: a probability of the 5-year event per case, from weights in the additional files.

Called the MedPerf way (fixed mount paths, no arguments) or the MLCube way
(``infer --data_path=... --parameters_file=... --weights=... --output_path=...``).
"""

import csv
import math
import os
import sys
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")


def paths(argv: list[str]) -> dict[str, Path]:
    found = {
        "data_path": VOLUMES / "data",
        "parameters_file": VOLUMES / "parameters" / "parameters.yaml",
        "weights": VOLUMES / "additional_files",
        "output_path": VOLUMES / "predictions",
    }
    for word in argv:
        if word.startswith("--") and "=" in word:
            name, _, value = word[2:].partition("=")
            found[name] = Path(value)
    return found


def main() -> int:
    if os.environ.get("RISK_MODEL") != "logistic" and "--data_path" not in " ".join(sys.argv):
        print("RISK_MODEL is not set: the container's environment was not passed", file=sys.stderr)
        return 3
    where = paths(sys.argv[1:])
    params = yaml.safe_load(where["parameters_file"].read_text())
    weights = yaml.safe_load((where["weights"] / params["weights_file"]).read_text())
    with open(where["data_path"] / "features.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(where["output_path"] / "predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case_id", "probability"))
        for row in rows:
            score = weights["intercept"] + sum(
                coefficient * float(row[name])
                for name, coefficient in weights["coefficients"].items()
            )
            writer.writerow((row["case_id"], round(1 / (1 + math.exp(-score)), 6)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
