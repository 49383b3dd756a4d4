"""The preparation cube: harmonisation, the 5-year outcome and exclusions, sanity checks,
and statistics that are aggregates only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.demo.conftest import DEMO, Federation, folder, run_task

from medval.core.documents import DatasetStatistics
from medval.demo.data import SITES, site_export
from medval.demo.train import PREPARATOR

HORIZON = 1826
EXPECTED = {  # site: (cases kept, events within 5 years)
    "rotterdam-1986-87": (582, 254),
    "rotterdam-1988-89": (745, 330),
    "rotterdam-1990-93": (949, 403),
    "gbsg": (408, 285),
    DEMO: (80, 41),
}


@pytest.mark.parametrize("name", list(SITES))
def test_exclusion_rule_and_outcome(federation: Federation, name: str) -> None:
    site = federation.sites[name]
    labels = pd.read_csv(site.labels / "labels.csv", dtype={"case_id": str})
    outcomes = site_export(name).outcomes.set_index("case_id")
    # Independently: event within 5 years -> 1; followed 5 years event-free -> 0; else out.
    early_event = (outcomes["event"] == 1) & (outcomes["followup_days"] <= HORIZON)
    known = early_event | (outcomes["followup_days"] >= HORIZON)
    assert set(labels["case_id"]) == set(outcomes.index[known])
    expected = early_event.astype(int).loc[labels["case_id"]].to_numpy()
    assert (labels["event_5y"].to_numpy() == expected).all()
    assert (len(labels), int(labels["event_5y"].sum())) == EXPECTED[name]


def test_prepared_cases_have_one_format_across_sites(federation: Federation) -> None:
    for name, site in federation.sites.items():
        cases = pd.read_csv(site.cases / "cases.csv", dtype={"case_id": str})
        assert list(cases.columns) == [
            "case_id",
            "age",
            "postmenopausal",
            "size_category",
            "grade",
            "nodes",
            "pgr",
            "er",
            "hormonal_therapy",
        ], name
        assert not cases.isna().any().any()
        assert set(cases["size_category"]) <= {"<=20", "20-50", ">50"}
        assert len(cases) == EXPECTED[name][0]


def test_gbsg_size_in_mm_is_cut_into_the_rotterdam_categories(federation: Federation) -> None:
    cases = pd.read_csv(federation.sites["gbsg"].cases / "cases.csv", dtype={"case_id": str})
    mm = site_export("gbsg").patients.set_index("case_id")["tumour_size_mm"]
    mm = mm.loc[cases["case_id"]].to_numpy()
    expected = pd.cut(mm, [0, 20, 50, 10_000], labels=["<=20", "20-50", ">50"]).astype(str)
    assert (cases["size_category"].to_numpy() == expected).all()
    assert set(cases["size_category"]) == {"<=20", "20-50", ">50"}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_statistics_validate_and_hold_no_per_case_values(federation: Federation, name: str) -> None:
    site = federation.sites[name]
    text = (site.statistics / "statistics.json").read_text()
    statistics = DatasetStatistics.model_validate_json(text)
    assert statistics.n_cases == EXPECTED[name][0]
    cases = pd.read_csv(site.cases / "cases.csv", dtype={"case_id": str})
    assert not any(case_id in text for case_id in cases["case_id"])
    values = statistics.values
    assert values["event_rate"] == pytest.approx(EXPECTED[name][1] / EXPECTED[name][0], abs=1e-4)
    assert values["mean_age"] == pytest.approx(cases["age"].mean(), abs=0.01)
    for variable in ("size_category", "grade"):
        counts = values[variable]
        assert isinstance(counts, dict)
        assert all(c == 0 or c >= 10 for c in counts.values())  # small-cell suppression
    print(name, json.dumps(json.loads(text)["values"]))


def _prepare(federation: Federation, raw: Path, tmp: Path) -> tuple[int, str, Path, Path]:
    out, out_labels = folder(tmp / "out"), folder(tmp / "out_labels")
    done = run_task(
        federation.cubes[PREPARATOR],
        "prepare.py",
        data_path=raw / "data",
        labels_path=raw / "labels",
        output_path=out,
        output_labels_path=out_labels,
    )
    return done.returncode, done.stderr, out, out_labels


def test_small_cells_are_suppressed_including_the_complement(
    federation: Federation, tmp_path: Path
) -> None:
    site = federation.sites["gbsg"]
    cases = pd.read_csv(site.cases / "cases.csv", dtype={"case_id": str})
    labels = pd.read_csv(site.labels / "labels.csv", dtype={"case_id": str})
    # 3 grade-1 cases, 20 grade-2, 10 grade-3: grade_1 is hidden, and grade_3 with it.
    small = pd.concat(
        [
            cases[cases["grade"] == 1].head(3),
            cases[cases["grade"] == 2].head(20),
            cases[cases["grade"] == 3].head(10),
        ]
    )
    data, lab, stats = folder(tmp_path / "d"), folder(tmp_path / "l"), folder(tmp_path / "s")
    small.to_csv(data / "cases.csv", index=False)
    labels.set_index("case_id").loc[small["case_id"]].reset_index().to_csv(
        lab / "labels.csv", index=False
    )
    done = run_task(
        federation.cubes[PREPARATOR],
        "compute_statistics.py",
        data_path=data,
        labels_path=lab,
        output_path=stats,
    )
    assert done.returncode == 0, done.stderr
    statistics = DatasetStatistics.model_validate_json((stats / "statistics.json").read_text())
    assert statistics.values["grade"] == {"grade_2": 20}


def test_sanity_check_names_every_problem(federation: Federation, tmp_path: Path) -> None:
    site = federation.sites["rotterdam-1986-87"]
    cases = pd.read_csv(site.cases / "cases.csv", dtype={"case_id": str})
    labels = pd.read_csv(site.labels / "labels.csv", dtype={"case_id": str})
    cases.loc[0, "age"] = None
    cases.loc[1, "grade"] = 7
    cases.loc[2, "size_category"] = "huge"
    data, lab = folder(tmp_path / "d"), folder(tmp_path / "l")
    cases.to_csv(data / "cases.csv", index=False)
    labels.iloc[:-1].to_csv(lab / "labels.csv", index=False)
    done = run_task(
        federation.cubes[PREPARATOR], "sanity_check.py", data_path=data, labels_path=lab
    )
    assert done.returncode != 0
    message = done.stderr.strip()
    assert message.startswith("sanity_check: error:") and "\n" not in message
    for fragment in ("missing values in: age", "grade:", "size_category:", "do not match"):
        assert fragment in message


def test_prepare_refuses_a_missing_folder(federation: Federation, tmp_path: Path) -> None:
    code, stderr, _, _ = _prepare(federation, tmp_path / "nowhere", tmp_path)
    assert code != 0
    assert stderr.strip() == f"prepare: error: {tmp_path / 'nowhere' / 'data'} is not a directory"


def test_prepare_refuses_an_export_without_tumour_size(
    federation: Federation, tmp_path: Path
) -> None:
    site = federation.sites["gbsg"]
    raw = tmp_path / "raw"
    patients = pd.read_csv(site.raw_data / "patients.csv").drop(columns="tumour_size_mm")
    folder(raw / "data")
    patients.to_csv(raw / "data" / "patients.csv", index=False)
    folder(raw / "labels")
    (raw / "labels" / "outcomes.csv").write_bytes((site.raw_labels / "outcomes.csv").read_bytes())
    code, stderr, out, _ = _prepare(federation, raw, tmp_path)
    assert code != 0 and "tumour_size" in stderr
    assert not (out / "cases.csv").exists()


def test_prepare_excludes_cases_with_missing_predictors(
    federation: Federation, tmp_path: Path
) -> None:
    site = federation.sites["rotterdam-1988-89"]
    raw = tmp_path / "raw"
    patients = pd.read_csv(site.raw_data / "patients.csv", dtype={"case_id": str})
    patients.loc[:9, "estrogen_receptor"] = None
    patients.loc[10:11, "menopausal_status"] = "unknown"
    folder(raw / "data")
    patients.to_csv(raw / "data" / "patients.csv", index=False)
    folder(raw / "labels")
    (raw / "labels" / "outcomes.csv").write_bytes((site.raw_labels / "outcomes.csv").read_bytes())
    code, stderr, out, _ = _prepare(federation, raw, tmp_path)
    assert code == 0, stderr
    kept = pd.read_csv(out / "cases.csv", dtype={"case_id": str})
    assert not set(kept["case_id"]) & set(patients["case_id"].iloc[:12])
    assert len(kept) <= EXPECTED["rotterdam-1988-89"][0] - 12 + 6  # <= 6 censored among them
