"""statistics: a free-form summary, as MedPerf preparation cubes write it.

Nested mappings, counts (a small one among them, which medval must withhold), a list of
ages (which medval must leave out) and a note in words.
"""

import csv
import math
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")


def main() -> None:
    with open(VOLUMES / "data" / "features.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(VOLUMES / "labels" / "labels.csv", newline="") as handle:
        labels = [int(row["label"]) for row in csv.DictReader(handle)]
    ages = [float(row["age"]) for row in rows]
    # Not the statistics module: this script's own name hides it, as in MedPerf's examples.
    mean = sum(ages) / len(ages)
    sd = math.sqrt(sum((age - mean) ** 2 for age in ages) / (len(ages) - 1))
    metadata = yaml.safe_load((VOLUMES / "metadata" / "exclusions.yaml").read_text())
    summary = {
        "n_cases": len(rows),
        "censored_early": metadata["censored_early"],
        "events": {"yes": sum(labels), "no": len(labels) - sum(labels)},
        "age": {"mean": round(mean, 2), "sd": round(sd, 2)},
        # Counts as a cube reports them, small ones included: medval withholds those.
        "age_band": {
            "under_40": sum(age < 40 for age in ages),
            "40_to_74": sum(40 <= age < 75 for age in ages),
            "75_and_over": sum(age >= 75 for age in ages),
        },
        "ages": ages,
        "note": "outcome within five years of surgery",
    }
    Path("/medperf_statistics.yaml").write_text(yaml.safe_dump(summary, sort_keys=False))


if __name__ == "__main__":
    main()
