"""``medval report`` against a real server: the page, its JSON and CSV hold exactly what
the server releases to the reader (the leaderboard, each site, subgroups, shift), the page
needs nothing beside it, and a folder holding anything else is refused and kept."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markupsafe import escape

from medval.core.result_schemas import PooledMetric
from medval.report.folder import file_names
from tests.cli.test_shift_command import Medval, as_user  # noqa: F401 (a fixture)
from tests.cli.test_subgroups_command import federation  # noqa: F401 (a fixture)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_report_holds_what_the_leaderboard_says(
    federation: dict[str, Any],  # noqa: F811
    as_user: Callable[[str], Medval],  # noqa: F811
    tmp_path: Path,
) -> None:
    benchmark_id = str(federation["benchmark"]["id"])
    medval = as_user("v1")
    folder = tmp_path / "report"
    made = medval("report", benchmark_id, "-o", str(folder))
    assert made.code == 0, made.stderr
    assert made.stderr == (
        f"Report written: {folder / 'report.html'}\n"
        "  with the same figures in report.json, leaderboard.csv, sites.csv, subgroups.csv, "
        "subgroup_gaps.csv, shift.csv"
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(file_names())
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o666 & ~umask}  # to share

    board = json.loads(medval("benchmark", "leaderboard", benchmark_id, "-f", "json").stdout)
    subgroups = json.loads(medval("benchmark", "subgroups", benchmark_id, "-f", "json").stdout)
    evidence = json.loads((folder / "report.json").read_text())
    assert evidence["leaderboard"] == board
    assert evidence["subgroups"] == subgroups
    assert evidence["provenance"]["reader"] == "v1"
    read = evidence["provenance"]["sources"][1]["path"]
    assert read == f"/benchmarks/{benchmark_id}/leaderboard?sites=true"

    (entry,) = board["entries"]
    pooled = entry["pooled"]["auroc"]
    (row,) = [r for r in _rows(folder / "leaderboard.csv") if r["metric"] == "auroc"]
    assert (row["model"], float(row["value"])) == (entry["model"], pooled["value"])
    assert (float(row["lower"]), float(row["upper"])) == (pooled["lower"], pooled["upper"])
    assert row["interval_method"] == pooled["interval_method"]
    sites = [r for r in _rows(folder / "sites.csv") if r["metric"] == "auroc"]
    assert sorted(r["site"] for r in sites) == sorted(s["dataset"] for s in entry["sites"])
    levels = {r["level"]: r for r in _rows(folder / "subgroups.csv") if r["metric"] == "auroc"}
    assert set(levels) == {"<50", "50-69"} and levels["<50"]["n_cases"] == "1200"
    (gap,) = _rows(folder / "subgroup_gaps.csv")
    assert (gap["largest"], gap["smallest"]) == ("50-69", "<50")

    page = (folder / "report.html").read_text()
    digest = hashlib.sha256((folder / "report.json").read_bytes()).hexdigest()
    assert f"sha256 <code>{digest}</code>" in page
    assert f'{pooled["value"]:.3f} <span class="ci">[{pooled["lower"]:.3f}, ' in page
    how = PooledMetric.model_validate(pooled)
    assert f"<td>{escape(how.method_label())}</td>" in page and how.method_label()
    assert page.count("<svg") == 2  # the models on auroc; the model's sites on auroc
    assert "<h3>model-v1: its sites</h3>" in page and "Gap in auroc: 50-69 minus &lt;50" in page
    # Self-contained: no script, no style sheet or image fetched, no link out.
    assert not re.search(r"<script|<link|src=|href=", page)


def test_a_report_replaces_its_own_files_and_refuses_a_folder_of_others(
    federation: dict[str, Any],  # noqa: F811
    as_user: Callable[[str], Medval],  # noqa: F811
    tmp_path: Path,
) -> None:
    benchmark_id = str(federation["benchmark"]["id"])
    medval = as_user("v1")
    folder = tmp_path / "report"
    assert medval("report", benchmark_id, "-o", str(folder)).code == 0
    assert medval("report", benchmark_id, "-o", str(folder)).code == 0  # an earlier report's
    (folder / "notes.txt").write_text("mine")
    refused = medval("report", benchmark_id, "-o", str(folder))
    assert refused.code == 2
    assert refused.stderr == (
        f"error: {folder} holds files that are not a medval report's (notes.txt): "
        "choose a new or empty folder"
    )
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_reader_who_may_not_see_it_gets_one_line_and_no_folder(
    federation: dict[str, Any],  # noqa: F811
    as_user: Callable[[str], Medval],  # noqa: F811
    tmp_path: Path,
) -> None:
    folder = tmp_path / "report"
    refused = as_user("stranger")("report", str(federation["benchmark"]["id"]), "-o", str(folder))
    assert refused.code == 3, refused
    assert refused.stderr == (
        "error: the leaderboard of bench-subgroups is released to the benchmark owner, admins "
        "and participants only"
    )
    assert not folder.exists()


def test_a_report_of_a_phase_holds_that_phases_results_and_an_unknown_one_is_one_line(
    federation: dict[str, Any],  # noqa: F811
    as_user: Callable[[str], Medval],  # noqa: F811
    tmp_path: Path,
) -> None:
    bench, b = as_user("bench"), str(federation["benchmark"]["id"])
    add = ("benchmark", "phase", "add", b, "before", "--opens", "2020-01-01")
    assert bench(*add, "--closes", "2020-02-01").code == 0
    folder = tmp_path / "before"
    made = bench("report", b, "-o", str(folder), "--phase", "before")
    assert made.code == 0, made.stderr
    evidence = json.loads((folder / "report.json").read_text())
    assert (evidence["leaderboard"]["phase"], evidence["leaderboard"]["entries"]) == ("before", [])
    assert (evidence["subgroups"]["phase"], evidence["subgroups"]["models"]) == ("before", [])
    paths = [s["path"] for s in evidence["provenance"]["sources"]]
    assert paths[1:3] == [
        f"/benchmarks/{b}/leaderboard?sites=true&phase=before",
        f"/benchmarks/{b}/subgroups?phase=before",
    ]
    assert (
        '<h2 id="leaderboard">Leaderboard: phase before</h2>'
        in (folder / "report.html").read_text()
    )
    main = json.loads(bench("benchmark", "leaderboard", b, "-f", "json").stdout)
    default = tmp_path / "default"
    assert bench("report", b, "-o", str(default)).code == 0
    assert json.loads((default / "report.json").read_text())["leaderboard"] == main
    assert main["phase"] == "main" and main["entries"]
    unknown = tmp_path / "unknown"
    refused = bench("report", b, "-o", str(unknown), "--phase", "final")
    assert (refused.code, refused.stderr) == (
        4,
        f"error: benchmark {federation['benchmark']['name']} has no phase 'final' (its phases: "
        "before, main)",
    )
    assert not unknown.exists()
