"""``medval simulate`` as a user runs it: a whole federation of three sites on an embedded
server, cubes in the real sandbox; its report in both formats; each refusal one line with
its exit code; Ctrl-C stops it with no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import medval
from medval.core.errors import InvalidInput

pytestmark = [pytest.mark.sandbox, pytest.mark.e2e]

PHASES = ["account", "prepare", "register", "associate", "run", "upload"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MEDVAL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(Path(medval.__file__).parents[1]),
        "COLUMNS": "300",
    }


def _simulate(tmp_path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medval", "simulate", *args],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def test_three_sites_report_every_phase_and_a_full_leaderboard(tmp_path: Path) -> None:
    done = _simulate(tmp_path, "--sites", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("simulated 3 sites x 2 models in ")
    assert lines[1] == "phase       total s   mean s per site"
    assert [line.split()[0] for line in lines[2:8]] == PHASES
    assert lines[8].startswith("throughput: ")
    assert "(6 uploads)" in lines[8]
    board = sorted(lines[9:11])
    assert board[0].startswith("leaderboard: sim") and board[0].endswith(
        "-model-1: 3 sites, 0 failed"
    )
    assert board[1].endswith("-reference: 3 sites, 0 failed")
    assert lines[11] == "password hashing: argon2's cheapest parameters (embedded server)"
    assert len(lines) == 12
    assert "embedded server on http://127.0.0.1:" in done.stderr


def test_the_json_report_counts_sites_models_and_uploads(tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    done = _simulate(
        tmp_path,
        "--sites",
        "3",
        "--models",
        "2",
        "--jobs",
        "2",
        "--workdir",
        str(workdir),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["sites"], report["models"], report["jobs"]) == (3, 3, 2)
    assert report["uploads"] == 9  # 3 sites x (2 models + the reference)
    assert report["complete"] is True
    assert sorted(e["n_sites"] for e in report["leaderboard"]) == [3, 3, 3]
    assert sorted(report["phases"]) == sorted(PHASES)
    assert report["requests"] > 3 * 10  # each site signs in, prepares, joins, runs, uploads
    assert report["wall_seconds"] >= report["setup_seconds"] + report["sites_seconds"] - 0.5
    # Each site had a client folder of its own: its token, its signing key, its results.
    sites = sorted((workdir / "clients").glob("sim*-site-*"))
    assert len(sites) == 3
    for home in sites:
        assert (home / "credentials.json").is_file()
        assert (home / "keys" / home.name / "signing-key.pem").is_file()
        assert len(list((home / "results").iterdir())) == 3


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--sites", "0"], "error: --sites is how many data owners take part: 1 to 100000, not 0"),
        (
            ["--sites", "2", "--jobs", "0"],
            "error: --jobs is how many sites work at once: at least 1, not 0",
        ),
        (
            ["--sites", "2", "--models", "0"],
            "error: --models is how many models the model owner brings: 1 to 100, not 0",
        ),
    ],
)
def test_a_bad_number_is_one_line_with_invalid_inputs_exit_code(
    tmp_path: Path, args: list[str], line: str
) -> None:
    done = _simulate(tmp_path, *args, timeout=60)
    assert done.returncode == InvalidInput.exit_code == 2
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""


def test_a_folder_with_something_in_it_is_refused_and_kept(tmp_path: Path) -> None:
    workdir = tmp_path / "thesis"
    workdir.mkdir()
    (workdir / "chapter1.tex").write_text("years of work")
    done = _simulate(tmp_path, "--sites", "2", "--workdir", str(workdir), timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: --workdir {workdir} is not empty; give a new or empty folder"
    ]
    assert [p.name for p in workdir.iterdir()] == ["chapter1.tex"]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those still running (a zombie has exited: it only waits to be reaped)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_ctrl_c_stops_the_sites_and_the_server_with_exit_130(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    with said.open("w") as stderr:
        simulation = subprocess.Popen(
            [sys.executable, "-m", "medval", "simulate", "--sites", "500"],
            env=_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            # As a terminal starts it: a background job has SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + 120
        while "joined it" not in said.read_text():  # the sites are starting
            assert simulation.poll() is None and time.monotonic() < deadline, said.read_text()
            time.sleep(0.1)
        time.sleep(2)
        below = _descendants(simulation.pid)
        assert below  # the embedded server at least
        simulation.send_signal(signal.SIGINT)
        simulation.wait(timeout=60)
    finally:
        if simulation.poll() is None:
            simulation.kill()
    assert simulation.returncode == 130, said.read_text()
    assert said.read_text().splitlines()[-1] == "interrupted: every running sandbox was stopped"
    assert _alive(below) == set()
