"""People in the end-to-end tests: each an account and a client folder of their own."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.warm_cli import CliResult, run_medval

__all__ = ["CliResult", "Person", "assert_clean_failure"]  # CliResult: tests.warm_cli

PASSWORD = "e2e-password-not-secret"
E2E_SITES = ("rotterdam-1990-93", "gbsg")


@dataclass(frozen=True)
class Person:
    """One person at one machine: an account and a client folder of their own."""

    username: str
    home: Path
    server_url: str
    runner: str | None = None  # MEDVAL_RUNNER for this person's commands, when given
    environment: tuple[tuple[str, str], ...] = ()  # more variables for this person's commands

    def medval(self, *args: str, server: str | None = None, stdin: str = "") -> CliResult:
        env = dict(os.environ)
        env.update(
            MEDVAL_HOME=str(self.home),
            MEDVAL_SERVER=server or self.server_url,
            MEDVAL_PASSWORD=PASSWORD,
            COLUMNS="200",
        )
        env.pop("MEDVAL_DEBUG", None)
        if self.runner is not None:
            env["MEDVAL_RUNNER"] = self.runner
        env.update(self.environment)
        # A process of its own, forked with medval imported (tests/warm_cli.py).
        return run_medval(list(args), env, stdin=stdin, timeout=600)

    def ok(self, *args: str) -> str:
        result = self.medval(*args)
        assert result.code == 0, f"medval {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json"))


def assert_clean_failure(result: CliResult, exit_code: int, message: str) -> None:
    """A user error: the given exit code and one line on stderr naming it, no traceback."""
    assert result.code == exit_code, (result.code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]
