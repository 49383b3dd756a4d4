"""The proof of issue 18: 200 synthetic cases of a few hundred KiB, a per-case step that
fails on 3 of them, a review step, and a SIGKILL of the preparing process mid-step. The
preparation resumes, redoes no case that had finished, takes the reviewer's answers and
the exclusions, and ends with the same prepared data and dataset hash as a preparation of
the same workflow that nobody interrupted."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medval.client.preparation.decisions import accept_review, exclude_case
from medval.client.preparation.state import STATE_FILE
from medval.client.preparation.workflow_run import workflow_folder
from medval.client.workspace import Workspace
from medval.core.errors import Conflict
from medval.core.hashing import tree_hash
from tests.client.proof_cube import (
    DATASET,
    cached_cube,
    case_name,
    prepare,
    runs,
    write_proof_cube,
    write_volumes,
)

pytestmark = pytest.mark.sandbox

CASES = 200
BROKEN = (17, 101, 188)
KILL_AFTER = 70  # cases whose normalise step finished before the kill
REPO = Path(__file__).resolve().parents[2]


def _normalised(work: Path, state: str = "done") -> dict[str, str]:
    """The cases whose normalise step the state records as done (or failed), with when."""
    with sqlite3.connect(work / STATE_FILE) as db:
        made = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'step_cases'").fetchone()
        if made is None:  # the preparing process made the file and not yet its table
            return {}
        rows = db.execute(
            "SELECT case_name, at FROM step_cases WHERE step = 'normalise' AND state = ?",
            (state,),
        )
        return dict(rows.fetchall())


def _decide(work: Path) -> None:
    """The data owner's answers: every overlay accepted, the 3 failing cases excluded."""
    for index in range(CASES):
        if index in BROKEN:
            exclude_case(work, case_name(index))
        else:
            accept_review(work, "look", case_name(index))


def test_two_hundred_cases_killed_mid_step_end_as_an_uninterrupted_run(tmp_path: Path) -> None:
    cube = write_proof_cube(tmp_path / "cubes")
    raw = tmp_path / "raw"
    write_volumes(raw, CASES, BROKEN)
    sizes = [p.stat().st_size for p in (raw / "data").rglob("volume.raw")]
    assert len(sizes) == CASES and min(sizes) > 190 * 1024 and max(sizes) < 450 * 1024
    kept = sorted(case_name(i) for i in range(CASES) if i not in BROKEN)

    # The uninterrupted run: it stops at the review, the answers are given, it ends.
    whole_home, whole_counts = tmp_path / "whole-home", tmp_path / "whole-counts.txt"
    whole_cube = cached_cube(whole_home, cube)
    with pytest.raises(Conflict) as waiting:
        prepare(whole_home, whole_cube, raw, whole_counts, jobs=2)
    assert waiting.value.message == (
        "the preparation waits for a review of 197 case(s) at step look "
        "(medval dataset review list shows them); nothing prepared is lost"
    )
    _decide(workflow_folder(Workspace(whole_home).dataset_dir(DATASET)))
    whole_hash = prepare(whole_home, whole_cube, raw, whole_counts, jobs=2)
    whole_prepared = Workspace(whole_home).dataset_dir(DATASET)

    # The interrupted one: `medval dataset prepare`'s executor in a process of its own,
    # SIGKILLed once KILL_AFTER cases are normalised, while the others are.
    home, counts = tmp_path / "home", tmp_path / "counts.txt"
    archive = cached_cube(home, cube)
    assert archive == whole_cube
    work = workflow_folder(Workspace(home).dataset_dir(DATASET))
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.client.proof_cube",
         str(home), archive, str(raw), str(counts), "2"],
        cwd=REPO, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if (work / STATE_FILE).exists() and len(_normalised(work)) >= KILL_AFTER:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    finished = _normalised(work)
    failed = _normalised(work, "failed")  # set aside before the kill: not tried again
    assert KILL_AFTER <= len(finished) < len(kept)
    ran_before = len(runs(counts))
    assert "prepare all" not in runs(counts)

    # Resumed: no finished case runs again, and the state keeps when each finished.
    with pytest.raises(Conflict) as waiting:
        prepare(home, archive, raw, counts, jobs=2)
    assert "a review of 197 case(s) at step look" in waiting.value.message
    rerun = runs(counts)[ran_before:]
    redone = {line.split()[1] for line in rerun}
    assert redone.isdisjoint(finished) and redone.isdisjoint(failed)
    assert redone | set(finished) | set(failed) == {case_name(i) for i in range(CASES)}
    assert len(rerun) == len(redone)  # each case at most once
    after = _normalised(work)
    assert {case: after[case] for case in finished} == finished
    assert _normalised(work, "failed").keys() == {case_name(i) for i in BROKEN}
    assert sorted(after) == kept
    assert not any(work.glob("steps/*/partial/*"))

    # The answers, then the end: the same data and the same hash.
    _decide(work)
    data_hash = prepare(home, archive, raw, counts, jobs=2)
    assert runs(counts)[ran_before + len(rerun) :] == [
        "prepare all", "sanity_check all", "statistics all"
    ]  # fmt: skip
    assert data_hash == whole_hash
    prepared = Workspace(home).dataset_dir(DATASET)
    assert sorted(p.name for p in (prepared / "data").iterdir()) == kept
    for part in ("data", "labels"):
        assert tree_hash(prepared / part) == tree_hash(whole_prepared / part)
    labels = (prepared / "labels" / "labels.csv").read_text().splitlines()
    assert len(labels) == len(kept) and labels[0] == "subject-000,0"
    # Each finished case ran once across the kill: 200 normalise attempts and the rest.
    normalise_runs = [line for line in runs(counts) if line.startswith("normalise ")]
    tried = {line.split()[1] for line in runs(counts)[:ran_before]}
    interrupted = tried - set(finished) - set(failed)
    assert len(normalise_runs) == CASES + len(interrupted)
    assert len(interrupted) <= 2  # --jobs 2: at most two cases were running when killed
