"""``medval storage``: caches are listed and freed; datasets and unsent results are kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from medval.client.storage import CACHES, Area, clean, usage
from medval.client.workspace import LocalResult, Workspace
from medval.core.documents import Provenance, ResultDocument


def _result(workspace: Workspace, model_id: int, uploaded: bool) -> LocalResult:
    result = LocalResult(
        benchmark_id=1,
        dataset_id=1,
        dataset="site",
        model_id=model_id,
        model=f"m{model_id}",
        document=ResultDocument(n_cases=10, n_positive=3, metrics={}),
        provenance=Provenance(
            dataset_hash="a", data_preparator_hash="b", model_hash="c", evaluator_hash="d"
        ),
        executed_at=datetime.now(UTC),
        uploaded_at=datetime.now(UTC) if uploaded else None,
    )
    workspace.save_result(result)
    predictions = workspace.result_dir(result.key) / "predictions"
    predictions.mkdir()
    (predictions / "cases.csv").write_text("case,p\n1,0.2\n")
    return result


def _fill(home: Path) -> Workspace:
    workspace = Workspace(home)
    (home / "cubes").mkdir(parents=True)
    (home / "cubes" / "abc.tar.gz").write_bytes(b"x" * 2048)
    (home / "images" / "id" / "rootfs").mkdir(parents=True)
    (home / "images" / "id" / "rootfs" / "bin").write_bytes(b"y" * 4096)
    (home / "environments" / "key" / "bin").mkdir(parents=True)
    (home / "environments" / "key" / "pyvenv.cfg").write_bytes(b"z" * 1024)
    (home / "scratch" / "cube-1").mkdir(parents=True)
    (home / "logs").mkdir()
    (home / "logs" / "task.log").write_text("ran\n")
    (home / "datasets" / "site" / "data").mkdir(parents=True)
    (home / "datasets" / "site" / "data" / "cases.csv").write_text("rows")
    return workspace


def test_usage_lists_every_area_with_its_size(tmp_path: Path) -> None:
    workspace = _fill(tmp_path)
    rows = {row.area: row for row in usage(workspace)}
    assert set(rows) == set(Area)
    assert rows[Area.CUBES].bytes == 2048 and rows[Area.CUBES].entries == 1
    assert rows[Area.IMAGES].bytes == 4096 and rows[Area.IMAGES].cache
    assert rows[Area.ENVIRONMENTS].bytes == 1024 and rows[Area.ENVIRONMENTS].cache
    assert not rows[Area.DATASETS].cache and rows[Area.DATASETS].bytes == 4
    assert rows[Area.RESULTS].entries == 0


def test_clean_frees_caches_and_keeps_datasets_and_unsent_results(tmp_path: Path) -> None:
    workspace = _fill(tmp_path)
    sent, unsent = _result(workspace, 1, uploaded=True), _result(workspace, 2, uploaded=False)
    freed = clean(workspace, list(CACHES), uploaded_results=True)
    assert freed == 2048 + 4096 + 1024 + 4 + len("case,p\n1,0.2\n")
    for area in CACHES:
        assert not (tmp_path / area.value).exists()
    assert (tmp_path / "datasets" / "site" / "data" / "cases.csv").read_text() == "rows"
    assert not (workspace.result_dir(sent.key) / "predictions").exists()
    assert workspace.result(sent.key) == sent  # The record stays.
    assert (workspace.result_dir(unsent.key) / "predictions" / "cases.csv").is_file()


def _medval(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medval", "--home", str(home), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_the_cli_lists_cleans_one_area_and_refuses_datasets(tmp_path: Path) -> None:
    _fill(tmp_path)
    listed = _medval(tmp_path, "storage", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    sizes = {row["area"]: row["size"] for row in json.loads(listed.stdout)}
    assert sizes["images"] == "0.0 MiB" and sizes["cubes"] == "0.0 MiB"

    asked = _medval(tmp_path, "storage", "clean", "--area", "logs")
    assert asked.returncode == 10
    assert "no terminal to ask on; pass --yes to approve" in asked.stderr
    assert (tmp_path / "logs" / "task.log").is_file()

    done = _medval(tmp_path, "storage", "clean", "--area", "logs", "--yes")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "logs").exists() and (tmp_path / "cubes" / "abc.tar.gz").is_file()

    refused = _medval(tmp_path, "storage", "clean", "--area", "datasets", "--yes")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: datasets is not a cache: medval storage clean never removes prepared "
        "datasets or unsent results (--uploaded-results frees uploaded ones)"
    )
    assert (tmp_path / "datasets" / "site" / "data" / "cases.csv").is_file()


def test_a_cache_that_is_a_link_is_refused_and_what_it_points_to_kept(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "thesis.tex").write_text("mine")
    home = tmp_path / "home"
    home.mkdir()
    (home / "logs").mkdir()
    (home / "cubes").symlink_to(elsewhere)
    done = subprocess.run(
        [sys.executable, "-m", "medval", "storage", "clean", "--yes"],
        env={**os.environ, "MEDVAL_HOME": str(home), "COLUMNS": "300"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"error: {home / 'cubes'} is a link, not a folder medval made; nothing was removed"
    )
    assert (elsewhere / "thesis.tex").read_text() == "mine"
    assert (home / "logs").is_dir()  # refused before anything was removed
