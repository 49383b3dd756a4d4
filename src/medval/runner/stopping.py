"""Stopping the sandboxes of other threads: Ctrl-C while executions run side by side.

Run in the main thread, a task hears Ctrl-C itself: the supervisor gets
``KeyboardInterrupt``, kills the sandbox's process group and lets the interrupt go on,
and nothing is recorded. A task run in a worker thread (``medval run --jobs N``) hears
nothing: only the main thread gets the signal. So the main thread calls
:meth:`SandboxStop.stop`, which kills the process group of every sandbox supervised under
that stop (whatever thread runs it) and refuses to start new ones; each supervisor then
raises ``KeyboardInterrupt`` in its own thread, as if it had heard Ctrl-C, and the same
clean-up runs (a container is removed, a control group emptied, nothing recorded).

A thread works under a stop with ``with stop.applied():``; the supervisor asks
:func:`current_stop` (a context variable: each thread has its own).

Imports: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class SandboxStop:
    """The sandboxes of one run, stopped together on :meth:`stop`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: set[int] = set()
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Kill every sandbox running under this stop; none starts after."""
        with self._lock:
            self._stopped = True
            groups = set(self._groups)
        for group in groups:
            _kill_group(group)

    def check(self) -> None:
        """``KeyboardInterrupt`` once stopped (a task about to start does not start)."""
        if self._stopped:
            raise KeyboardInterrupt

    @contextmanager
    def watching(self, group: int) -> Iterator[None]:
        """A sandbox leading process group ``group`` runs in this block: killed at once if
        the stop comes before the block ends (or came already); ``KeyboardInterrupt`` at
        the end of the block if it came."""
        with self._lock:
            self._groups.add(group)
            stopped = self._stopped
        if stopped:
            _kill_group(group)
        try:
            yield
        finally:
            with self._lock:
                self._groups.discard(group)
        self.check()

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Sandboxes supervised in this thread, in this block, run under this stop."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


_CURRENT: ContextVar[SandboxStop | None] = ContextVar("medval_sandbox_stop", default=None)


def current_stop() -> SandboxStop | None:
    """The stop this thread works under, if any (none: Ctrl-C reaches it directly)."""
    return _CURRENT.get()


@contextmanager
def watched(group: int) -> Iterator[None]:
    """``SandboxStop.watching`` under this thread's stop; nothing without one."""
    stop = current_stop()
    if stop is None:
        yield
        return
    with stop.watching(group):
        yield


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
