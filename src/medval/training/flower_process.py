"""A Flower command that a site starts (SuperNode, SuperExec): one process group, watched.

Each runs in a process group of its own (a new session), so that stopping it reaches
every process it started, and a signal meant for medval (Ctrl-C) does not reach it
unasked; stopping goes through :mod:`medval.training.processes`, as on the aggregator.
Its output (standard output and error together) is copied to a log file and handed, one
line at a time, to a callback. It gets SIGTERM if the thread that started it ends
(Linux' parent-death signal), so a crashed medval leaves no Flower process behind.

Its environment is the one given, whole: :meth:`FlowerInstall.environment
<medval.training.flower_env.FlowerInstall.environment>` makes it, as for every Flower
process medval starts. Imports the standard library and this room's ``processes``.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from medval.training.processes import kill_process_tree, stop_process_tree

_PR_SET_PDEATHSIG = 1


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
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.environment,
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
        """SIGTERM to its group and every group below it; SIGKILL to what is left after
        ``grace_seconds`` (SuperExec's ClientApp launches get the same time to clean up)."""
        if self._process is None:
            return
        stop_process_tree(self._process, grace_seconds)
        self._process.wait()
        self.finish_reading(5)

    def finish_reading(self, timeout_seconds: float) -> None:
        """Wait until every line it wrote has been handed on (once it has ended)."""
        if self._reader is not None:
            self._reader.join(timeout_seconds)

    def kill(self) -> None:
        """SIGKILL to its group and every group below it at once, as a crash would end it."""
        if self._process is not None:
            kill_process_tree(self._process)
            self._process.wait()

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in self._process.stdout:
                log.write(raw)
                log.flush()
                self.on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
