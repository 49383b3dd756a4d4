"""The data owner's own audit log: owner-only files, a chain that names what was changed,
``medval audit`` and ``medval audit verify`` with their exact lines and exit codes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.cli.main import main
from medval.client.audit_log import LocalAuditLog, record
from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.runs import PlannedExecution, run_executions
from medval.client.workspace import Workspace
from medval.core.errors import HashMismatch
from medval.core.result_schemas import PendingExecution
from medval.runner.interface import Limits
from medval.runner.registry import runner_for
from medval.trust.audit_chain import public_hash

BROKEN = 6  # HashMismatch's exit code


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def log(home: Path) -> LocalAuditLog:
    log = LocalAuditLog(Workspace(home).audit_dir, "hospital")
    for i in range(3):
        log.append("execution.approve", "execution", f"b1-m{i}-d1", None, "a" * 64)
    return log


@pytest.fixture
def any_umask() -> Iterator[None]:
    previous = os.umask(0)  # the most permissive: files must still be owner-only
    yield
    os.umask(previous)


def _lines(log: LocalAuditLog) -> list[str]:
    return log.entries_path.read_text().splitlines()


def _write(log: LocalAuditLog, lines: list[str]) -> None:
    log.entries_path.write_text("".join(line + "\n" for line in lines))


def test_the_log_is_owner_only_whatever_the_umask(home: Path, any_umask: None) -> None:
    log = LocalAuditLog(Workspace(home).audit_dir, "hospital")
    log.append("execution.approve", "execution", "b1-m2-d3", None, "a" * 64)
    assert stat.S_IMODE(log.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.entries_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.head_path.stat().st_mode) == 0o600


def test_an_unbroken_log_verifies(log: LocalAuditLog) -> None:
    head = log.verify()
    assert head.size == 3
    assert [(e.seq, e.actor, e.entity_id) for e in log.entries()] == [
        (1, "hospital", "b1-m0-d1"),
        (2, "hospital", "b1-m1-d1"),
        (3, "hospital", "b1-m2-d1"),
    ]


def test_an_edited_line_is_named(log: LocalAuditLog) -> None:
    lines = _lines(log)
    lines[1] = lines[1].replace('"hospital"', '"mallory"')
    _write(log, lines)
    with pytest.raises(HashMismatch) as found:
        log.verify()
    assert found.value.message == (
        "local audit log does not verify: entry 2 was edited: its content does not match its hash"
    )


def test_a_deleted_line_and_a_deleted_last_line_are_named(log: LocalAuditLog) -> None:
    lines = _lines(log)
    _write(log, [lines[0], lines[2]])
    with pytest.raises(
        HashMismatch, match=r"^local audit log does not verify: entry 2 was deleted"
    ):
        log.verify()
    _write(log, lines[:2])
    with pytest.raises(HashMismatch) as found:
        log.verify()
    assert found.value.message == (
        "local audit log does not verify: entry 3 was deleted: the log's head records "
        "3 entries, 2 are left (missing: 3)"
    )


def test_swapped_lines_are_named_reordered(log: LocalAuditLog) -> None:
    lines = [json.loads(line) for line in _lines(log)]
    lines[1]["seq"], lines[2]["seq"] = 3, 2
    _write(log, [json.dumps(lines[0]), json.dumps(lines[2]), json.dumps(lines[1])])
    with pytest.raises(HashMismatch) as found:
        log.verify()
    assert found.value.message == (
        "local audit log does not verify: entry 2 was reordered: "
        "it chains to entry 3, which comes after it"
    )


def test_a_line_that_is_not_an_entry_is_named(log: LocalAuditLog) -> None:
    lines = _lines(log)
    lines[1] = "not json"
    _write(log, lines)
    with pytest.raises(HashMismatch) as found:
        log.verify()
    assert found.value.message == (
        f"local audit log does not verify: line 2 of {log.entries_path} is not an entry (edited)"
    )


def test_the_run_loop_records_each_approval(home: Path) -> None:
    """An approved execution is in the log before it runs, even when it cannot run here
    (here: its dataset was not prepared in this workspace, so nothing runs)."""
    executor = Executor(
        MedvalClient("http://127.0.0.1:9"),
        Workspace(home),
        runner_for("local"),
        Limits(),
        actor="hospital",
    )
    pending = PendingExecution(
        benchmark_id=1,
        benchmark="bench",
        dataset_id=3,
        dataset="site",
        model_id=2,
        model="m",
        model_owner="vendor",
        model_hash="c" * 64,
    )

    class Quiet:
        def starting(self, *_: object) -> None: ...
        def succeeded(self, *_: object) -> None: ...
        def failed(self, *_: object) -> None: ...

    item = PlannedExecution(pending=pending, dataset=None, done=None)
    outcome = run_executions(executor, [item], Quiet())
    assert len(outcome.failures) == 1
    entries = executor.audit.entries()
    assert [(e.actor, e.action, e.entity_kind, e.entity_id) for e in entries] == [
        ("hospital", "execution.approve", "execution", "b1-m2-d3")
    ]
    assert entries[0].after_hash == public_hash(pending)


def _medval(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_medval_audit_shows_and_verifies(
    log: LocalAuditLog, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record(log, "upload", "execution", "b1-m0-d1", log.entries()[0])
    code, out, err = _medval(home, capsys, "audit", "verify")
    assert (code, err) == (0, "")
    assert out == f"local audit log verified: 4 entries, head {log.head().last_hash}\n"
    code, out, _ = _medval(
        home, capsys, "audit", "--entity", "execution:b1-m0-d1", "--format", "json"
    )
    assert code == 0
    assert [e["action"] for e in json.loads(out)] == ["execution.approve", "execution.upload"]

    lines = _lines(log)
    _write(log, [lines[0], *lines[2:]])
    code, out, err = _medval(home, capsys, "audit", "verify")
    assert (code, out) == (BROKEN, "")
    assert err == (
        "error: local audit log does not verify: entry 2 was deleted: entry 3 chains to an "
        "entry that is not in the log (missing: 2)\n"
    )


def test_medval_audit_on_an_empty_workspace(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _medval(home, capsys, "audit") == (0, "(no audit entries)\n", "")
    code, out, _ = _medval(home, capsys, "audit", "verify")
    assert (code, out) == (0, f"local audit log verified: 0 entries, head {'0' * 64}\n")
