"""The durable state of a workflow: every (step, case) that finished or failed, and the data
owner's decisions, in one SQLite file in the dataset's workspace folder.

Why SQLite (the standard library's ``sqlite3``) and not a journal of our own: each change is
a transaction that is on disk whole or not at all, whatever kills the process (SQLite's
rollback journal and ``synchronous=FULL`` do what a hand-written journal would have to get
right: write, fsync, rename, recover a torn tail); several threads record finished cases
through one connection under a lock; and ``medval dataset status`` (or a test) can read the
file while a preparation runs. A step's output folder is trusted only when its row says
``done`` with the input hash it was made from, and that row is written only after the folder
was renamed into place.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

STATE_FILE = "workflow.sqlite"
RAW_DATA = "raw_data"  # the fact naming the raw data folder the workflow last ran on
STEPS = "steps"  # the fact listing the steps the workflow last ran (JSON)
LEFT_OUT = "left_out"  # the cases the last prepared data left out, by name (JSON)
CASES = "cases"  # the fact counting the cases of the raw data the workflow last ran on
WHOLE = ""  # the case name of a step that runs once for the dataset

_SCHEMA = """
CREATE TABLE IF NOT EXISTS step_cases (
    step TEXT NOT NULL,
    case_name TEXT NOT NULL,
    state TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (step, case_name)
);
CREATE TABLE IF NOT EXISTS facts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exclusions (
    case_name TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
"""


class CaseState(StrEnum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class StepCase:
    step: str
    case: str
    state: CaseState
    input_hash: str
    reason: str


class WorkflowState:
    """The state file of one dataset's workflow; safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / STATE_FILE
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, *params: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *params: str) -> list[tuple[str, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params))

    # --- a step of a case ----------------------------------------------------------------

    def record(
        self, step: str, case: str, state: CaseState, input_hash: str, reason: str = ""
    ) -> None:
        self._write(
            "INSERT OR REPLACE INTO step_cases VALUES (?, ?, ?, ?, ?, ?)",
            step,
            case,
            state.value,
            input_hash,
            reason,
            _now(),
        )

    def forget(self, step: str, case: str) -> None:
        """Before a step runs again for a case: its old output is no longer trusted."""
        self._write("DELETE FROM step_cases WHERE step = ? AND case_name = ?", step, case)

    def get(self, step: str, case: str) -> StepCase | None:
        rows = self._rows(
            "SELECT step, case_name, state, input_hash, reason FROM step_cases "
            "WHERE step = ? AND case_name = ?",
            step,
            case,
        )
        return _step_case(rows[0]) if rows else None

    def all(self) -> list[StepCase]:
        rows = self._rows(
            "SELECT step, case_name, state, input_hash, reason FROM step_cases "
            "ORDER BY step, case_name"
        )
        return [_step_case(row) for row in rows]

    # --- what the last run was given (read by the decisions) ---------------------------

    def remember(self, name: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO facts VALUES (?, ?)", name, value)

    def fact(self, name: str) -> str | None:
        rows = self._rows("SELECT value FROM facts WHERE name = ?", name)
        return rows[0][0] if rows else None

    # --- the data owner's decisions ------------------------------------------------------

    def failures_of(self, case: str) -> list[StepCase]:
        return [r for r in self.all() if r.case == case and r.state is CaseState.FAILED]

    def retry(self, case: str) -> None:
        self._write(
            "DELETE FROM step_cases WHERE case_name = ? AND state = ?", case, CaseState.FAILED
        )

    def exclude(self, case: str) -> None:
        self._write("INSERT OR REPLACE INTO exclusions VALUES (?, ?)", case, _now())

    def last_progressed(self, step: str) -> str | None:
        """When a case of ``step`` last finished or failed (ISO 8601, UTC), if ever."""
        rows = self._rows("SELECT MAX(at) FROM step_cases WHERE step = ?", step)
        return rows[0][0] if rows else None

    def excluded(self) -> set[str]:
        return {row[0] for row in self._rows("SELECT case_name FROM exclusions")}


def _step_case(row: tuple[str, ...]) -> StepCase:
    step, case, state, input_hash, reason = row
    return StepCase(step, case, CaseState(state), input_hash, reason)


def _now() -> str:
    return datetime.now(UTC).isoformat()
