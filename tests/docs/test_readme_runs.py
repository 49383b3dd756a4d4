"""The README's runnable blocks, run as written: a newcomer from a clean home folder to a
leaderboard, through the real ``medval`` command, a real server and real sandboxed cubes.

A shell block right after the line ``<!-- runs: NAME -->`` belongs to the scenario NAME
(README.md, "Tests"); a scenario's blocks run in README order as one bash script.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_MARKER = re.compile(r"^<!-- runs: ([a-z][a-z0-9-]*) -->$")
SCENARIO_SECONDS = 240  # the newcomer takes about a minute on a 2-core machine


@dataclass(frozen=True)
class Block:
    scenario: str
    line: int  # of the block's first command, in README.md
    text: str


def runnable_blocks(readme: str) -> list[Block]:
    """Every marked block, in README order; a marker not followed by a shell block is an
    error (it would silently run nothing)."""
    lines = readme.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        marker = _MARKER.match(line)
        if not marker:
            continue
        if index + 1 >= len(lines) or lines[index + 1] not in ("```sh", "```bash"):
            raise ValueError(f"README.md:{index + 1}: {line} is not followed by a ```sh block")
        end = lines.index("```", index + 2)
        blocks.append(Block(marker.group(1), index + 3, "\n".join(lines[index + 2 : end])))
    return blocks


def scenario(name: str) -> str:
    """The scenario's blocks as one bash script."""
    blocks = [block for block in runnable_blocks(README.read_text()) if block.scenario == name]
    parts = [f"# README.md:{block.line}\n{block.text}" for block in blocks]
    return "set -euo pipefail\n" + "\n".join(parts) + "\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_as_newcomer(script: str, root: Path) -> subprocess.CompletedProcess[str]:
    """``script`` in bash, in a new empty folder with a new empty HOME, no MEDVAL_*
    setting inherited, this checkout's ``medval`` on the PATH; whatever it leaves running
    (its server) is stopped."""
    home, work, bin_dir = root / "home", root / "work", root / "bin"
    for folder in (home, work, bin_dir):
        folder.mkdir(parents=True)
    medval = bin_dir / "medval"
    medval.write_text(f'#!/bin/sh\nexec {sys.executable} -m medval "$@"\n')
    medval.chmod(0o755)
    env = {name: value for name, value in os.environ.items() if not name.startswith("MEDVAL_")}
    env |= {
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "MEDVAL_SERVER_PORT": str(_free_port()),
        "MEDVAL_SERVER_PASSWORD_HASH_PROFILE": "test_only_cheapest",
    }
    # Its own process group: the server it starts in the background is stopped with it.
    process = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=SCENARIO_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the scenario ran over {SCENARIO_SECONDS} s:\n{out[-3000:]}\n{err[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):  # nothing left running
            os.killpg(process.pid, signal.SIGTERM)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_markers_name_shell_blocks() -> None:
    blocks = runnable_blocks(README.read_text())
    assert [block.scenario for block in blocks] == ["newcomer"] * 5
    assert blocks[0].text == "medval demo --setup-only --workdir first"


def test_a_marker_without_a_block_is_refused() -> None:
    with pytest.raises(ValueError, match=r"README.md:2: <!-- runs: x --> is not followed"):
        runnable_blocks("text\n<!-- runs: x -->\n\nmore text\n")


def test_a_renamed_option_breaks_the_scenario(tmp_path: Path) -> None:
    """What a reader would meet if the README kept an option the command no longer has."""
    first = runnable_blocks(README.read_text())[0].text
    assert "--workdir" in first
    done = run_as_newcomer(
        "set -euo pipefail\n" + first.replace("--workdir", "--work-dir"), tmp_path
    )
    assert done.returncode == 2
    assert "Error: No such option '--work-dir'. Did you mean '--workdir'?" in done.stderr


@pytest.mark.e2e
@pytest.mark.sandbox
def test_a_newcomer_reaches_the_leaderboard_from_the_readme(tmp_path: Path) -> None:
    done = run_as_newcomer(scenario("newcomer"), tmp_path)
    shown = f"{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
    assert done.returncode == 0, shown
    board = done.stdout[done.stdout.index("breast-recurrence-5y: across sites") :]
    assert "rfs5-vendor-logistic" in board, shown
    assert "rfs5-reference-logistic" in board, shown
    assert "site-a" in board, shown
    assert (tmp_path / "home" / ".medval" / "credentials.json").is_file()
