"""A workflow prepares case by case in the real sandbox: a failing case is set aside, a
killed preparation resumes without redoing what finished, and ends with the same data."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.preparation.decisions import accept_review, exclude_case, retry_case
from medval.client.preparation.state import STATE_FILE
from medval.client.preparation.workflow_run import SetAside, ToReview, run_workflow, workflow_folder
from medval.client.registration import pack_cube
from medval.client.workspace import Workspace
from medval.core.cube_spec import load_cube_spec
from medval.core.errors import Conflict, InvalidInput
from medval.core.hashing import tree_hash
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import BubblewrapRunner, Limits
from tests.client.workflow_cube import (
    WORKFLOW,
    CountingCube,
    prepare,
    write_cases,
    write_workflow_cube,
)

CASES = 20
BROKEN = (4, 13)
REASONS = [
    SetAside(
        f"case-{i:02d}",
        "convert",
        "task 'convert' of cube 'workflow-prep' failed with exit code 1: "
        f"case case-{i:02d}: value.txt is broken",
    )
    for i in BROKEN
]
REPO = Path(__file__).resolve().parents[2]


def _done_convert_cases(work: Path) -> set[str]:
    with sqlite3.connect(work / STATE_FILE) as db:
        made = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'step_cases'").fetchone()
        if made is None:  # the preparing process made the file and not yet its table
            return set()
        rows = db.execute(
            "SELECT case_name FROM step_cases WHERE step = 'convert' AND state = 'done'"
        )
        return {row[0] for row in rows}


def test_an_uninterrupted_run_sets_aside_the_failing_cases(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes")
    write_cases(tmp_path / "raw", CASES, BROKEN)
    counts = tmp_path / "counts.txt"
    outcome = prepare(cube, tmp_path / "raw", tmp_path / "work", counts, jobs=2)
    assert list(outcome.set_aside) == REASONS
    assert outcome.prepared is not None and outcome.cases == CASES
    data, labels = outcome.prepared
    assert (labels / "labels.csv").read_text().count("\n") == 1 + CASES - len(BROKEN)
    assert sorted(p.name for p in data.iterdir()) == [
        f"case-{i:02d}" for i in range(CASES) if i not in BROKEN
    ]
    assert (data / "case-00" / "value.txt").read_text() == "VALUE 0"
    assert len(CountingCube(cube, counts).runs()) == CASES + 1

    # A second run redoes nothing, and still sets the two cases aside.
    again = prepare(cube, tmp_path / "raw", tmp_path / "work", counts, jobs=2)
    assert len(CountingCube(cube, counts).runs()) == CASES + 1
    assert list(again.set_aside) == REASONS


def test_a_killed_preparation_resumes_redoing_nothing_finished(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes")
    write_cases(tmp_path / "raw", CASES, BROKEN)
    whole = prepare(cube, tmp_path / "raw", tmp_path / "whole", tmp_path / "whole.txt", jobs=2)
    assert whole.prepared is not None

    work, counts = tmp_path / "work", tmp_path / "counts.txt"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.client.workflow_cube",
         str(cube), str(tmp_path / "raw"), str(work), str(counts), "2"],
        cwd=REPO, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (work / STATE_FILE).exists() and len(_done_convert_cases(work)) >= 6:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    finished = _done_convert_cases(work)
    assert 6 <= len(finished) < CASES - len(BROKEN)
    before = len(CountingCube(cube, counts).runs())

    resumed = prepare(cube, tmp_path / "raw", work, counts, jobs=2)
    rerun = CountingCube(cube, counts).runs()[before:]
    redone = {line.split()[1] for line in rerun if line.startswith("convert ")}
    assert redone.isdisjoint(finished)
    assert redone | finished >= {f"case-{i:02d}" for i in range(CASES) if i not in BROKEN}
    assert rerun.count("prepare all") == 1
    assert list(resumed.set_aside) == REASONS
    assert not any(work.glob("steps/*/partial/*"))
    assert resumed.prepared is not None
    assert tree_hash(*resumed.prepared) == tree_hash(*whole.prepared)


def test_a_changed_input_reruns_its_step_and_decisions_count(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes")
    data, _ = write_cases(tmp_path / "raw", 4, broken=(1,))
    work, counts = tmp_path / "work", tmp_path / "counts.txt"
    prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    seam = CountingCube(cube, counts)
    assert len(seam.runs()) == 5

    # The data owner fixes case-01's input: by its hash, it alone runs again, then prepare.
    (data / "case-01" / "value.txt").write_text("value 1")
    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    assert seam.runs()[5:] == ["convert case-01", "prepare all"]
    assert outcome.set_aside == ()

    # Excluding a case leaves it out and counts it; prepare runs again without it.
    exclude_case(work, "case-02")
    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    assert outcome.excluded == ("case-02",)
    assert outcome.prepared is not None
    assert sorted(p.name for p in outcome.prepared[0].iterdir()) == [
        "case-00", "case-01", "case-03"
    ]  # fmt: skip
    assert seam.runs()[7:] == ["prepare all"]

    with pytest.raises(InvalidInput) as refused:
        retry_case(work, "case-09")
    assert refused.value.message == f"'case-09' is not a case of {data}"
    assert refused.value.exit_code == 2
    with pytest.raises(InvalidInput) as refused:
        retry_case(work, "case-00")
    assert refused.value.message == "case 'case-00' has no failed step to retry"


def test_retry_runs_a_failed_case_again(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes")
    write_cases(tmp_path / "raw", 3, broken=(0,))
    work, counts = tmp_path / "work", tmp_path / "counts.txt"
    prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    retry_case(work, "case-00")
    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    assert CountingCube(cube, counts).runs()[4:] == ["convert case-00"]
    assert [s.case for s in outcome.set_aside] == ["case-00"]


REVIEWED = """workflow:
  steps:
    convert: {task: convert, runs: per_case}
    look: {runs: review, files: ["*.png"]}
    prepare: {task: prepare, runs: whole}
"""


def test_a_review_stops_the_workflow_until_each_case_is_decided(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes", REVIEWED)
    write_cases(tmp_path / "raw", 2)
    work, counts = tmp_path / "work", tmp_path / "counts.txt"
    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    assert outcome.prepared is None
    assert list(outcome.to_review) == [
        ToReview("look", f"case-0{i}", (f"case-0{i}/overlay.png",)) for i in range(2)
    ]
    accept_review(work, "look", "case-00")
    exclude_case(work, "case-01")
    with pytest.raises(InvalidInput) as refused:
        accept_review(work, "prepare", "case-00")
    assert refused.value.message == "'prepare' is not a review step of the workflow"
    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=1)
    assert outcome.to_review == () and outcome.excluded == ("case-01",)
    assert outcome.prepared is not None
    assert [p.name for p in outcome.prepared[0].iterdir()] == ["case-00"]
    # The whole step ran once, on the one case left (the seam names a lone case).
    assert CountingCube(cube, counts).runs()[2:] == ["prepare case-00"]


class SaidProgress:
    def __init__(self) -> None:
        self.said: list[str] = []

    def step(self, message: str) -> None:
        self.said.append(message)

    def done(self, message: str, seconds: float) -> None:
        return None


def _executor(tmp_path: Path, workflow: str) -> tuple[Executor, CubePublic, SaidProgress]:
    packed = pack_cube(write_workflow_cube(tmp_path / "cubes", workflow))
    workspace = Workspace(tmp_path / "home")
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(packed.sha256).write_bytes(packed.archive)
    cube = CubePublic(
        id=3, name="workflow-prep", kind=CubeKind.DATA_PREPARATOR, archive_hash=packed.sha256,
        owner_id=1, owner="committee", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip
    progress = SaidProgress()
    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    executor = Executor(client, workspace, BubblewrapRunner(), Limits(), progress=progress)
    return executor, cube, progress


def test_the_executor_prepares_by_the_declared_workflow(tmp_path: Path) -> None:
    executor, cube, progress = _executor(tmp_path, WORKFLOW)
    data, labels = write_cases(tmp_path / "raw", 7, broken=(2,))
    out = executor.workspace.dataset_dir("site-a")
    data_hash, statistics = executor.prepare(cube, data, labels, out, benchmark_k=5, jobs=2)
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        f"case-{i:02d}" for i in range(7) if i != 2
    ]
    assert data_hash == tree_hash(out / "data", out / "labels")
    assert statistics.document.n_cases == 6
    assert (
        "case case-02 set aside at step convert: task 'convert' of cube 'workflow-prep' "
        "failed with exit code 1: case case-02: value.txt is broken"
    ) in progress.said

    # Prepared again (the same name): every step finished from the same input is kept.
    before = len(progress.said)
    assert executor.prepare(cube, data, labels, out, benchmark_k=5)[0] == data_hash
    tasks = [line for line in progress.said[before:] if line.startswith("workflow-prep: ")]
    assert tasks == ["workflow-prep: sanity_check", "workflow-prep: statistics"]


def test_a_review_that_waits_stops_the_executor_in_one_line(tmp_path: Path) -> None:
    executor, cube, _ = _executor(tmp_path, REVIEWED)
    data, labels = write_cases(tmp_path / "raw", 2)
    out = executor.workspace.dataset_dir("site-a")
    with pytest.raises(Conflict) as waiting:
        executor.prepare(cube, data, labels, out, benchmark_k=5)
    assert waiting.value.message == (
        "the preparation waits for a review of 2 case(s) at step look "
        "(medval dataset review list shows them); nothing prepared is lost"
    )


def test_dataset_status_and_case_decisions_on_a_stopped_preparation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from medval.cli.main import main

    home = tmp_path / "home"
    cube = write_workflow_cube(tmp_path / "cubes")
    write_cases(tmp_path / "raw", 4, broken=(3,))
    work = workflow_folder(Workspace(home).dataset_dir("site-a"))
    prepare(cube, tmp_path / "raw", work, tmp_path / "counts.txt", jobs=2)
    case = ["--home", str(home), "dataset", "case"]
    assert main([*case, "exclude", "site-a", "case-00"]) == 0
    assert capsys.readouterr().err == (
        "case case-00 of site-a is excluded from the next dataset prepare on\n"
    )

    status = ["--home", str(home), "dataset", "status"]
    assert main([*status, "site-a", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert [line.split(",")[:4] for line in out.splitlines()] == [
        ["step", "done", "failed", "waiting"],
        ["convert", "3", "1", "0"],
        ["prepare", "1", "0", "0"],
    ]
    assert err == "1 case(s) excluded\n"

    assert main([*case, "retry", "site-a", "case-07"]) == 2
    raw_data = tmp_path / "raw" / "data"
    assert capsys.readouterr().err == f"error: 'case-07' is not a case of {raw_data}\n"
    assert main([*case, "retry", "site-a", "case-03"]) == 0
    capsys.readouterr()
    assert main([*status, "site-a", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("convert,3,0,1,")

    assert main([*status, "site-b"]) == 4
    assert capsys.readouterr().err == "error: dataset site-b has no preparation workflow here\n"


def test_dataset_prepare_refuses_no_jobs_before_asking_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from medval.cli.main import main

    raw = tmp_path / "raw"
    prepare_command = ["dataset", "prepare", "-b", "1", "--name", "site-a"]
    folders = ["--data-path", str(raw), "--labels-path", str(raw), "--jobs", "0"]
    assert main(["--home", str(tmp_path / "home"), *prepare_command, *folders]) == 2
    assert capsys.readouterr().err == (
        "error: --jobs is how many cases are prepared at once: at least 1, not 0\n"
    )


def test_a_second_preparation_of_one_dataset_at_once_is_refused(tmp_path: Path) -> None:
    import fcntl

    cube = write_workflow_cube(tmp_path / "cubes")
    write_cases(tmp_path / "raw", 1)
    work = tmp_path / "work"
    work.mkdir()
    with (work / "workflow.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(Conflict) as refused:
            prepare(cube, tmp_path / "raw", work, tmp_path / "counts.txt", jobs=1)
    assert refused.value.message == (
        f"another preparation is running in {work}: wait for it, or stop it"
    )
    assert not (tmp_path / "counts.txt").exists()


class InterruptedCube(CountingCube):
    """Ctrl-C while the case ``at`` runs (the seam raises it, as a supervisor would)."""

    def __init__(self, folder: Path, counts: Path, at: str) -> None:
        super().__init__(folder, counts)
        self.at = at

    def __call__(self, task: str, mounts: Mapping[str, Path]) -> None:
        if (mounts["data_path"] / self.at).exists():
            raise KeyboardInterrupt
        super().__call__(task, mounts)


def test_ctrl_c_records_nothing_for_the_cases_it_stopped(tmp_path: Path) -> None:
    cube = write_workflow_cube(tmp_path / "cubes")
    data, labels = write_cases(tmp_path / "raw", 6, broken=(1,))
    work, counts = tmp_path / "work", tmp_path / "counts.txt"
    workflow = load_cube_spec(cube).workflow
    assert workflow is not None
    interrupted = InterruptedCube(cube, counts, "case-03")
    with pytest.raises(KeyboardInterrupt):
        run_workflow(workflow, interrupted, data, labels, work, jobs=2)
    assert "case-03" not in _done_convert_cases(work)

    outcome = prepare(cube, tmp_path / "raw", work, counts, jobs=2)
    assert [s.case for s in outcome.set_aside] == ["case-01"]
    assert outcome.prepared is not None
    assert len(list(outcome.prepared[0].iterdir())) == 5
