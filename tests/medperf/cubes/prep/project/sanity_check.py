"""sanity_check: the prepared features and labels name the same cases, labels are 0/1."""

import csv
import sys
from pathlib import Path

VOLUMES = Path("/mlcommons/volumes")


def main() -> int:
    with open(VOLUMES / "data" / "features.csv", newline="") as handle:
        cases = [row["case_id"] for row in csv.DictReader(handle)]
    with open(VOLUMES / "labels" / "labels.csv", newline="") as handle:
        labels = {row["case_id"]: row["label"] for row in csv.DictReader(handle)}
    if sorted(cases) != sorted(labels):
        print("features and labels name different cases", file=sys.stderr)
        return 1
    if set(labels.values()) - {"0", "1"}:
        print("labels must be 0 or 1", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
