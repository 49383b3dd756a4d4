"""prepare: raw patients and outcomes -> features.csv and labels.csv (event within horizon)."""

import csv
import sys
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")
FEATURES = ("age", "positive_nodes", "grade", "progesterone_receptor", "estrogen_receptor")


def main() -> int:
    params = yaml.safe_load((VOLUMES / "parameters" / "parameters.yaml").read_text())
    horizon = int(params["horizon_days"])
    with open(VOLUMES / "raw_data" / "patients.csv", newline="") as handle:
        patients = {row["case_id"]: row for row in csv.DictReader(handle)}
    with open(VOLUMES / "raw_labels" / "outcomes.csv", newline="") as handle:
        outcomes = list(csv.DictReader(handle))
    kept = []
    for outcome in outcomes:
        days, event = int(float(outcome["followup_days"])), int(outcome["event"])
        if outcome["case_id"] not in patients:
            print(f"outcome without a patient: {outcome['case_id']}", file=sys.stderr)
            return 1
        if event == 1 and days <= horizon:
            kept.append((outcome["case_id"], 1))
        elif days > horizon:
            kept.append((outcome["case_id"], 0))
    with open(VOLUMES / "data" / "features.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case_id", *FEATURES))
        for case_id, _ in kept:
            writer.writerow((case_id, *(patients[case_id][name] for name in FEATURES)))
    with open(VOLUMES / "labels" / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case_id", "label"))
        writer.writerows(kept)
    excluded = len(outcomes) - len(kept)
    (VOLUMES / "metadata" / "exclusions.yaml").write_text(f"censored_early: {excluded}\n")
    (VOLUMES / "report" / "report.yaml").write_text(
        yaml.safe_dump({"prepared": len(kept), "excluded": excluded, "status": "done"})
    )
    print(f"prepared {len(kept)} of {len(outcomes)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
