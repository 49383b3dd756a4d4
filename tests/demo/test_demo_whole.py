"""``medval demo`` played whole: every role through the CLI, then its own account of the
time (wall, the cube tasks', the platform's share; issue 14)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.demo.time_report import check_time_report

from medval.demo.data import SITES
from medval.demo.play import PRIVATE_VENDOR

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
    _the_private_model_ran_sealed(workdir, done.stdout + done.stderr)


def _the_private_model_ran_sealed(workdir: Path, output: str) -> None:
    """vendor-b's model was registered --private: the server holds its ciphertext only,
    each hospital was granted its key, and it is on the leaderboard like the others."""
    with sqlite3.connect(workdir / "server" / "medval.db") as db:
        rows = db.execute(
            "SELECT cubes.name, archive_hash, sealed FROM cubes JOIN users "
            "ON users.id = cubes.owner_id WHERE users.username = ?",
            (PRIVATE_VENDOR,),
        ).fetchall()
    [(name, clear_hash, sealed)] = rows
    sealed_hash = json.loads(sealed)["sealed_hash"]
    blobs = workdir / "server" / "blobs"
    assert (blobs / sealed_hash).is_file()
    assert not (blobs / clear_hash).exists()
    for hospital in SITES:
        assert f"hospital-{hospital}: granted" in output
    board = output[output.index("Step 5") :]
    assert name in board
