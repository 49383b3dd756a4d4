"""``medval demo --setup-only``: the demo's materials written, nothing played."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medval.demo.workdir import MARKER


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medval", "demo", *args],
        env={**os.environ, "MEDVAL_HOME": str(tmp_path / "home"), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_writes_the_cubes_the_exports_and_the_demo_data(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--setup-only", "--workdir", str(tmp_path / "first"))
    assert done.returncode == 0, done.stderr
    first = tmp_path / "first"
    assert sorted(p.name for p in first.iterdir()) == sorted(
        [MARKER, "committee", "cubes", "hospitals"]
    )
    assert sorted(p.name for p in (first / "cubes").iterdir()) == [
        "breast-rfs5-evaluator",
        "breast-rfs5-prep",
        "rfs5-reference-logistic",
        "rfs5-vendor-boosting",
        "rfs5-vendor-logistic",
    ]
    assert (first / "cubes" / "rfs5-vendor-logistic" / "weights.json").is_file()  # trained
    assert (first / "hospitals" / "gbsg" / "labels" / "outcomes.csv").is_file()
    assert (first / "committee" / "demo-data" / "data" / "patients.csv").is_file()
    assert (first / "committee" / "declarations.yaml").is_file()
    assert done.stderr.splitlines()[-1] == (
        f"  Set up in {first}: nothing was played; no server started"
    )
    assert not (tmp_path / "home").exists()  # no client folder, no login, no server


@pytest.mark.parametrize(
    ("other", "line"),
    [
        ("--training", "error: --setup-only writes the tabular demo's materials; drop --training"),
        ("--imaging", "error: --setup-only writes the tabular demo's materials; drop --imaging"),
    ],
)
def test_it_is_the_tabular_demo_only(tmp_path: Path, other: str, line: str) -> None:
    done = _demo(tmp_path, "--setup-only", other, "--workdir", str(tmp_path / "first"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [line]
    assert not (tmp_path / "first").exists()
