"""The end-to-end tests' commands, forked warm (tests/warm_cli.py), answer exactly as
``python -m medval`` started afresh does: the same exit code, output and errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import cpu_time
from tests.warm_cli import run_medval


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],  # 0
        ["benchmark", "list", "--bogus"],  # a usage error, 2
        ["whoami"],  # not logged in, 3
        ["cube", "show", "no-such-file.yaml"],  # a relative path, from the working folder
    ],
)
def test_a_warm_command_answers_as_a_fresh_process(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = dict(os.environ, MEDVAL_HOME=str(tmp_path / "home"), COLUMNS="200")
    fresh = subprocess.run(
        [sys.executable, "-m", "medval", *args], env=env, capture_output=True, text=True
    )
    warm = run_medval(args, env)
    assert (warm.code, warm.stdout, warm.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_standard_input_reaches_the_command(tmp_path: Path) -> None:
    env = dict(os.environ, MEDVAL_HOME=str(tmp_path / "home"), MEDVAL_SERVER="http://127.0.0.1:9")
    env.pop("MEDVAL_PASSWORD", None)
    args = ["login", "--username", "someone", "--password-stdin"]
    answers = []
    for stdin in ("", "a-password\n"):  # no password; then one, and no server on port 9
        fresh = subprocess.run(
            [sys.executable, "-m", "medval", *args],
            env=env, input=stdin, capture_output=True, text=True,
        )  # fmt: skip
        warm = run_medval(args, env, stdin=stdin)
        assert (warm.code, warm.stderr) == (fresh.returncode, fresh.stderr)
        answers.append(warm.stderr)
    assert "the password is empty" in answers[0]
    assert "the password is empty" not in answers[1]


def test_a_command_past_its_time_is_killed_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = dict(os.environ, MEDVAL_HOME=str(tmp_path / "home"), MEDVAL_SERVER=url)
        with pytest.raises(subprocess.TimeoutExpired):
            run_medval(["benchmark", "list"], env, timeout=1)


def test_a_warm_command_counts_its_cpu_for_the_test_that_ran_it(tmp_path: Path) -> None:
    """Its parent is the zygote, not the test: it reports the CPU it used with its exit
    code, and the test's CPU account (tests/cpu_time.py) adds it."""
    env = dict(os.environ, MEDVAL_HOME=str(tmp_path / "home"), COLUMNS="200")
    before, started = cpu_time.reported_cpu_seconds(), time.monotonic()
    assert run_medval(["--help"], env).code == 0
    counted, wall = cpu_time.reported_cpu_seconds() - before, time.monotonic() - started
    assert 0 < counted <= 2 * wall  # a single-threaded command, within the call's time
