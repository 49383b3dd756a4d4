"""``medval server audit verify|show``: on the server's own database, tampered with by hand.

Each test makes a small log (three admins created by the operator, so three entries),
then changes the SQLite file directly, as someone with access to the database could,
and checks the one line and exit code that ``verify`` answers with.
"""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.cli.main import main
from medval.trust.audit_chain import ChainHead, next_entry

BROKEN = 6  # HashMismatch's exit code


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Medval = Callable[..., Outcome]


@pytest.fixture
def medval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Medval:
    monkeypatch.setenv("MEDVAL_SERVER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDVAL_SERVER_PASSWORD_HASH_PROFILE", "test_only_cheapest")
    monkeypatch.setenv("MEDVAL_ADMIN_PASSWORD", "s3cret-pw")

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        capsys.readouterr()
        code = main(["server", *args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture
def db(medval: Medval, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    for name in ("root", "ops", "auditor"):
        assert medval("create-admin", "-u", name).code == 0
    connection = sqlite3.connect(tmp_path / "data" / "medval.db", isolation_level=None)
    yield connection
    connection.close()


def _head(db: sqlite3.Connection) -> str:
    return str(db.execute("SELECT last_hash FROM audit_head").fetchone()[0])


def test_an_untouched_log_verifies(medval: Medval, db: sqlite3.Connection) -> None:
    result = medval("audit", "verify")
    assert (result.code, result.err) == (0, "")
    assert result.out == f"audit log verified: 3 entries, head {_head(db)}\n"


def test_an_edited_entry_is_named(medval: Medval, db: sqlite3.Connection) -> None:
    db.execute("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2")
    result = medval("audit", "verify")
    assert (result.code, result.out) == (BROKEN, "")
    assert result.err == (
        "error: audit log does not verify: entry 2 was edited: "
        "its content does not match its hash\n"
    )


def test_a_deleted_entry_is_named(medval: Medval, db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM audit_entries WHERE seq = 2")
    result = medval("audit", "verify")
    assert result.code == BROKEN
    assert result.err == (
        "error: audit log does not verify: entry 2 was deleted: entry 3 chains to an entry "
        "that is not in the log (missing: 2)\n"
    )


def test_the_last_entry_deleted_is_named(medval: Medval, db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM audit_entries WHERE seq = 3")
    result = medval("audit", "verify")
    assert result.code == BROKEN
    assert result.err == (
        "error: audit log does not verify: entry 3 was deleted: the log's head records "
        "3 entries, 2 are left (missing: 3)\n"
    )


def test_reordered_entries_are_named(medval: Medval, db: sqlite3.Connection) -> None:
    db.execute("UPDATE audit_entries SET seq = -1 WHERE seq = 2")
    db.execute("UPDATE audit_entries SET seq = 2 WHERE seq = 3")
    db.execute("UPDATE audit_entries SET seq = 3 WHERE seq = -1")
    result = medval("audit", "verify")
    assert result.code == BROKEN
    assert result.err == (
        "error: audit log does not verify: entry 2 was reordered: it chains to entry 3, "
        "which comes after it\n"
    )


def test_an_inserted_entry_is_named(medval: Medval, db: sqlite3.Connection) -> None:
    # A forged entry, properly hashed and chained to entry 1, slipped in as entry 2.
    first_hash = db.execute("SELECT entry_hash FROM audit_entries WHERE seq = 1").fetchone()[0]
    forged = next_entry(
        ChainHead(1, first_hash),
        at=datetime(2024, 1, 1, tzinfo=UTC),
        actor="mallory",
        action="user.add",
        entity_kind="user",
        entity_id="99",
        before_hash=None,
        after_hash="f" * 64,
    )
    db.execute("UPDATE audit_entries SET seq = seq + 100 WHERE seq >= 2")
    db.execute("UPDATE audit_entries SET seq = seq - 99 WHERE seq >= 100")
    row = forged.model_dump()
    row["at"] = forged.at.replace(tzinfo=None).isoformat(sep=" ")
    db.execute(
        f"INSERT INTO audit_entries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    result = medval("audit", "verify")
    assert result.code == BROKEN
    assert result.err == (
        "error: audit log does not verify: entry 2 was inserted: entry 3 chains to entry 1, "
        "not to it\n"
    )


def test_show_lists_and_filters_the_entries(
    medval: Medval, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: rich wraps at 80 otherwise
    shown = medval("audit", "show", "--format", "json")
    assert shown.code == 0, shown.err
    entries = json.loads(shown.out)
    assert [(e["seq"], e["actor"], e["action"]) for e in entries] == [
        (1, "(server operator)", "user.add"),
        (2, "(server operator)", "user.add"),
        (3, "(server operator)", "user.add"),
    ]
    one = json.loads(medval("audit", "show", "--entity", "user:2", "--format", "json").out)
    assert [(e["entity_kind"], e["entity_id"]) for e in one] == [("user", "2")]
    nobody = medval("audit", "show", "--actor", "nobody")
    assert (nobody.code, nobody.out) == (0, "(no audit entries)\n")
    table = medval("audit", "show")
    assert table.code == 0 and "user.add" in table.out and "(server operator)" in table.out


def test_a_database_without_the_log_is_one_line(medval: Medval, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = medval("audit", "verify", "--database-url", url)
    assert (result.code, result.err) == (
        2,
        "error: this database has no audit log yet; run: medval server migrate\n",
    )
