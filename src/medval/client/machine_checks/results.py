"""What one check of the machine found, and the machine the checks probe (the seam
through which tests give a machine without bubblewrap, an engine at a bogus socket,
another clock)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from medval.runner.cgroups import ROOT as CGROUP_ROOT

if TYPE_CHECKING:
    from medval.runner.interface import Runner

GIB = 1 << 30


class CheckState(StrEnum):
    """``fail`` rows fail ``medval doctor`` (exit 8); ``warn`` rows are shown only."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor's table: what was checked, its state, what was found, and
    (for a warning or a failure) one way to fix it."""

    check: str
    state: CheckState
    found: str
    fix: str | None = None


def ok(check: str, found: str) -> CheckResult:
    return CheckResult(check, CheckState.OK, found)


def problem(check: str, found: str, fix: str, fails: bool) -> CheckResult:
    """A failure when ``fails`` (the configured runner or the workspace needs it), else a
    warning."""
    return CheckResult(check, CheckState.FAIL if fails else CheckState.WARN, found, fix)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Machine:
    """What the checks probe. The defaults are this machine; a test passes another."""

    # Each runner kind's runner (None: each with its defaults, found on PATH).
    runners: Mapping[str, Runner] | None = None
    # Where the control groups are, and this process's own group per controller (None:
    # read from /proc/self/cgroup): medval.runner.cgroups.find_support's arguments.
    cgroup_root: Path = CGROUP_ROOT
    own_cgroups: Mapping[str, str] | None = None
    python_version: tuple[int, int, int] = field(
        default_factory=lambda: (sys.version_info[0], sys.version_info[1], sys.version_info[2])
    )
    clock: Callable[[], datetime] = _now
    # Below this much free space in the workspace, a warning.
    min_free_bytes: int = 5 * GIB
    # How long the server has to answer its health check.
    server_timeout_seconds: float = 10.0
