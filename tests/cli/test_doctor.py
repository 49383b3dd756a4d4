"""``medval doctor`` as a data owner runs it: the exact lines and exit code on a machine
without bubblewrap (a PATH that holds none), on this machine, and with a closed port."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.cli.main import main


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


Medval = Callable[..., Outcome]


@pytest.fixture
def medval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Medval:
    """Runs medval in a fresh client folder, with no server set and the local runner."""
    monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "250")
    for variable in ("MEDVAL_SERVER", "MEDVAL_RUNNER", "MEDVAL_CA_BUNDLE", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Outcome(code, out.out, out.err.strip())

    return run


def _json_rows(outcome: Outcome) -> dict[str, dict[str, str | None]]:
    rows = json.loads(outcome.stdout)
    return {row["check"]: row for row in rows}


def test_a_machine_without_bubblewrap_exits_8_with_the_fix(
    medval: Medval, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap, docker or podman on it
    shown = medval("doctor")
    assert shown.code == 8
    assert shown.stderr == (
        "error: runner local cannot run a task here with all its limits; "
        "fix the failed checks above: local: bubblewrap"
    )
    line = next(line for line in shown.stdout.splitlines() if "local: bubblewrap" in line)
    assert "fail" in line and "install it: apt-get install bubblewrap" in line

    as_json = medval("doctor", "--format", "json")
    assert as_json.code == 8
    rows = _json_rows(as_json)
    assert rows["local: bubblewrap"] == {
        "check": "local: bubblewrap",
        "state": "fail",
        "found": "bubblewrap is not installed ('bwrap' not found): "
        "install the Debian package bubblewrap",
        "fix": "install it: apt-get install bubblewrap (dnf install bubblewrap); "
        "or choose another runner (--runner docker or podman)",
    }
    assert rows["docker: engine"]["state"] == "warn"  # not the configured runner
    assert rows["podman: engine"]["state"] == "warn"


def test_this_machine_is_ready_for_the_local_runner(medval: Medval) -> None:
    shown = medval("doctor", "--format", "json")
    assert shown.code == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert all(set(row) == {"check", "state", "found", "fix"} for row in rows)
    local = [row for row in rows if row["check"].startswith("local: ")]
    assert local and all(row["state"] == "ok" and row["fix"] is None for row in local)
    assert shown.stderr.startswith("ready: runner local can run a task here with all its limits (")


def test_a_closed_port_is_shown_and_does_not_fail(
    medval: Medval, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MEDVAL_SERVER", f"http://127.0.0.1:{port}")
    shown = medval("doctor", "--format", "json")
    assert shown.code == 0, shown.stderr
    assert _json_rows(shown)["server: reachable"] == {
        "check": "server: reachable",
        "state": "warn",
        "found": f"cannot reach http://127.0.0.1:{port} "
        "(ConnectError: [Errno 111] Connection refused)",
        "fix": "check the URL, that the server runs, and no firewall or proxy is in between",
    }
