"""The workspace's rows (``ClientSettings.home``): it exists or can be made, this
account owns it and can write in it, only this account can read it, and it has room.

A problem that stops the client from keeping its files there is a failure; a folder
others can read, or little free space, a warning.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from medval.client.machine_checks.results import CheckResult, Machine, ok, problem
from medval.core.private_files import FOLDER_MODE

_ELSEWHERE = "or set MEDVAL_HOME (or --home) to a folder of your own"


def workspace_rows(home: Path, machine: Machine) -> list[CheckResult]:
    """The folder (made, mode 700, when it does not exist yet), its mode, its free space."""
    folder = _folder_row(home)
    if folder.state != "ok":
        return [folder]
    return [folder, _mode_row(home), _space_row(home, machine)]


def _folder_row(home: Path) -> CheckResult:
    check = "workspace: folder"
    made = not home.exists()
    try:
        if made:
            home.mkdir(mode=FOLDER_MODE, parents=True)
        if not home.is_dir():
            return problem(check, f"{home} is not a folder", f"remove it, {_ELSEWHERE}", True)
        # Tried, not asked (os.access says yes to root on a read-only file system).
        fd, trial = tempfile.mkstemp(dir=home, prefix=".medval-doctor-")
        os.close(fd)
        os.unlink(trial)
    except OSError as exc:
        found = f"cannot {'make' if made else 'write in'} {home}: {exc.strerror}"
        return problem(check, found, f"make it writable by this account, {_ELSEWHERE}", True)
    owner = home.stat().st_uid
    if owner != os.geteuid():
        found = f"{home} belongs to uid {owner}, not to this account (uid {os.geteuid()})"
        return problem(check, found, f"chown it to this account, {_ELSEWHERE}", True)
    return ok(check, f"{home} ({'made now' if made else 'writable'})")


def _mode_row(home: Path) -> CheckResult:
    check = "workspace: permissions"
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        found = f"{home} has mode {mode:o}: other accounts may look in it"
        return problem(check, found, f"chmod 700 {home}", False)
    return ok(check, f"mode {mode:o} (owner only)")


def _space_row(home: Path, machine: Machine) -> CheckResult:
    check = "workspace: free space"
    free = shutil.disk_usage(home).free
    found = f"{free / (1 << 30):.1f} GiB free"
    if free < machine.min_free_bytes:
        least = f"{machine.min_free_bytes / (1 << 30):.1f} GiB"
        fix = f"free space (at least {least}; 'medval storage clean' empties caches), {_ELSEWHERE}"
        return problem(check, f"{found}, less than {least}", fix, False)
    return ok(check, found)
