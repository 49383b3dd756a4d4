"""``medval demo --imaging`` refuses what it cannot play in one line, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medval", "demo", "--workdir", str(tmp_path / "run"), *args],
        env={**os.environ, "MEDVAL_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_wheels_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-wheels"
    done = _demo(tmp_path, "--imaging", "--wheels", str(missing))
    expected = f"{missing}/nilearn-0.14.1-py3-none-any.whl is missing: run make imaging-wheels"
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(expected), done.stderr


def test_imaging_and_training_together_are_refused(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--imaging", "--training")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("--imaging and --training are separate demos; pick one")
    assert not (tmp_path / "run").exists()
