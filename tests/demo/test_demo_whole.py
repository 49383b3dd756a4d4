"""``medval demo`` played whole: every role through the CLI, then its own account of the
time (wall, the cube tasks', the platform's share; issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.demo.time_report import check_time_report

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@pytest.mark.timeout(900)
def test_the_demo_plays_every_role_and_says_where_its_time_went(tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "medval", "demo", "--workdir", str(workdir)],
        env={**os.environ, "MEDVAL_HOME": str(tmp_path / "home"), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (workdir / "report" / "report.html").is_file()
    check_time_report(done.stderr, workdir)
    assert "by command (wall - cube tasks): " in done.stderr
