"""``medval demo --workdir X`` empties X only when an earlier demo made it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medval.core.errors import InvalidInput
from medval.demo.workdir import MARKER, claim_workdir


def test_a_new_or_empty_folder_is_claimed(tmp_path: Path) -> None:
    for workdir in (tmp_path / "new" / "run", tmp_path / "empty"):
        if workdir.name == "empty":
            workdir.mkdir()
        claim_workdir(workdir)
        assert [p.name for p in workdir.iterdir()] == [MARKER]


def test_a_folder_an_earlier_demo_made_is_emptied(tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    claim_workdir(workdir)
    (workdir / "clients").mkdir()
    (workdir / "clients" / "credentials.json").write_text("{}")
    claim_workdir(workdir)
    assert [p.name for p in workdir.iterdir()] == [MARKER]


@pytest.mark.parametrize("marker", ["absent", "a folder", "a link"])
def test_a_folder_the_demo_did_not_make_is_refused_and_kept(tmp_path: Path, marker: str) -> None:
    workdir = tmp_path / "thesis"
    workdir.mkdir()
    (workdir / "chapter1.tex").write_text("years of work")
    if marker == "a folder":
        (workdir / MARKER).mkdir()
    elif marker == "a link":
        (tmp_path / "elsewhere").write_text("")
        (workdir / MARKER).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInput) as caught:
        claim_workdir(workdir)
    assert str(caught.value) == (
        f"--workdir {workdir} is not empty and was not made by medval demo; "
        "give a new or empty folder (nothing was removed)"
    )
    assert (workdir / "chapter1.tex").read_text() == "years of work"


def test_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(InvalidInput, match="is not a folder; give a new or empty folder"):
        claim_workdir(path)
    assert path.read_text() == "mine"


def test_the_cli_refuses_in_one_line(tmp_path: Path) -> None:
    workdir = tmp_path / "thesis"
    workdir.mkdir()
    (workdir / "chapter1.tex").write_text("years of work")
    done = subprocess.run(
        [sys.executable, "-m", "medval", "demo", "--workdir", str(workdir)],
        env={**os.environ, "MEDVAL_HOME": str(tmp_path / "home"), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --workdir {workdir} is not empty and was not made by medval demo; "
        "give a new or empty folder (nothing was removed)"
    ]
    assert (workdir / "chapter1.tex").read_text() == "years of work"
