"""A site's Flower processes end with it: on Ctrl-C cleanly (the SuperNode says goodbye),
and when the process holding the site is killed outright, too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medval.training.processes import free_port

pytestmark = pytest.mark.flower

ROOT = Path(__file__).resolve().parents[3]


def start_site(folder: Path) -> tuple[subprocess.Popen[str], dict[str, int]]:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    holder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.training.sites.site_process",
            str(folder),
            f"127.0.0.1:{free_port()}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    pids = json.loads(holder.stdout.readline())
    # Once Flower is up and trying to reach the (absent) aggregator:
    unreachable = "problem: the aggregator cannot be reached; Flower keeps trying\n"
    assert holder.stdout.readline() == unreachable
    return holder, pids


def gone(pids: dict[str, int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids.values():
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.2)
    return False


def test_ctrl_c_stops_the_site_cleanly(tmp_path: Path) -> None:
    holder, pids = start_site(tmp_path)
    assert sorted(pids) == ["superexec", "supernode"]
    holder.send_signal(signal.SIGINT)
    out, _ = holder.communicate(timeout=60)
    assert holder.returncode == 0
    assert out.splitlines()[-1] == "stopped: the site left the experiment"
    assert gone(pids, 5)
    assert "SuperNode terminated gracefully" in (tmp_path / "site/logs/supernode.log").read_text()


def test_killing_the_site_s_process_ends_its_flower_processes(tmp_path: Path) -> None:
    holder, pids = start_site(tmp_path)
    holder.kill()
    holder.wait(10)
    assert gone(pids, 30)
