"""A Flower command that medval starts (SuperNode, SuperExec): one process group, watched.

Each runs in a process group of its own (a new session), so that stopping it reaches
every process it started, and a signal meant for medval (Ctrl-C) does not reach it
unasked. Its output (standard output and error together) is copied to a log file and
handed, one line at a time, to a callback. It gets SIGTERM if the thread that started it
ends (Linux' parent-death signal), so a crashed medval leaves no Flower process behind.

Nothing of the host's environment is passed on but ``PATH``; Flower's telemetry and its
update check are off (a hospital's machine may be offline, and should say nothing).
Imports ``core`` and the standard library.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from shutil import which

from medval.core.errors import InvalidInput

_PR_SET_PDEATHSIG = 1
QUIET_FLOWER: Mapping[str, str] = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
}


def flower_command(name: str) -> str:
    """The Flower executable ``name`` beside this Python, else on ``PATH``."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = which(name)
    if found is None:
        raise InvalidInput(
            f"Flower is not installed here ({name} not found): install medval's training "
            "extra (pip install 'medval[training]')"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class FlowerProcess:
    """One Flower command running in its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        environment: Mapping[str, str],
        log_path: Path,
        on_line: Callable[[str], None],
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.environment = dict(environment)
        self.log_path = log_path
        self.on_line = on_line
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **QUIET_FLOWER}
        environment.update(self.environment)
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, name=f"medval-{self.name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def stop(self, grace_seconds: float) -> None:
        """SIGTERM to the whole group; SIGKILL to what is left of it after ``grace_seconds``.

        The group's other processes (SuperExec's ClientApp launches) get the same time as
        its leader to clean up after themselves: the wait is for the whole group.
        """
        if self._process is None:
            return
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            self._process.poll()  # Reaps the leader once it has ended.
            try:
                os.killpg(self._process.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.05)
        self._signal_group(signal.SIGKILL)
        self._process.wait()
        self.finish_reading(5)

    def finish_reading(self, timeout_seconds: float) -> None:
        """Wait until every line it wrote has been handed on (once it has ended)."""
        if self._reader is not None:
            self._reader.join(timeout_seconds)

    def kill(self) -> None:
        """SIGKILL to the whole group at once, as a crash would end it."""
        if self._process is not None:
            self._signal_group(signal.SIGKILL)
            self._process.wait()

    def _signal_group(self, number: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, number)

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in self._process.stdout:
                log.write(raw)
                log.flush()
                self.on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
