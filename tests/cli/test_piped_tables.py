"""A table written to a pipe, a file or a CI log is never cut to fit 80 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_a_piped_table_keeps_every_value_whole(tmp_path: Path) -> None:
    home = tmp_path / ("a-folder-name-long-enough-to-pass-eighty-columns-on-its-own" * 2)
    env = {**os.environ, "MEDVAL_HOME": str(home)}
    env.pop("COLUMNS", None)
    done = subprocess.run(
        [sys.executable, "-m", "medval", "storage", "list"],
        env=env,
        capture_output=True,  # a pipe: not a terminal
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ ")]
    assert len(rows) == 9  # one line per area: no value folded onto the next line
    for area in ("cubes", "datasets", "results", "audit"):
        assert re.search(rf"{re.escape(str(home / area))} +│", done.stdout), area
    assert "never removed by medval storage clean" in done.stdout
