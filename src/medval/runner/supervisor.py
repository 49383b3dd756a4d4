"""Watch a sandbox process: stream its output, enforce the clock, kill it whole.

Shared by every runner: the sandbox tool (``bwrap``, later ``docker run``) is started
in a new process group, its stdout and stderr are copied to the log file as they come
and remembered as a bounded tail, and when time is up the whole group is killed. So
is it when its outputs and log together pass their cap (:mod:`medval.runner.outputs`),
and when the run it belongs to is interrupted from another thread
(:mod:`medval.runner.stopping`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from medval.core.errors import SandboxError
from medval.runner.log_tail import LineSplitter, LogTail
from medval.runner.outputs import OutputCap, OutputMeter
from medval.runner.stopping import current_stop, watched

_CHUNK = 1 << 16


@dataclass(frozen=True)
class ProcessOutcome:
    """How a supervised process ended."""

    returncode: int
    duration_seconds: float
    timed_out: bool
    log_tail: tuple[str, ...]
    error_tail: tuple[str, ...]
    last_error_line: str
    # Under an output cap: what the outputs and log held at the end (None: no cap), whether
    # the task was killed for passing it, and a folder in its outputs no one could read.
    output_bytes: int | None = None
    output_exceeded: bool = False
    unreadable_output: str | None = None

    @property
    def cut_short(self) -> bool:
        """Killed by the supervisor (time or output), not ended on its own."""
        return self.timed_out or self.output_exceeded or self.unreadable_output is not None


def supervise(
    argv: Sequence[str],
    *,
    timeout_seconds: float,
    address_space_bytes: int | None,
    log_path: Path | None,
    env: Mapping[str, str] | None = None,
    prepare_child: Callable[[], None] | None = None,
    pass_fds: Sequence[int] = (),
    outputs: OutputCap | None = None,
    cwd: Path | None = None,
) -> ProcessOutcome:
    """Run ``argv`` to its end, to its deadline or past its output cap.

    ``address_space_bytes`` sets RLIMIT_AS in the child before it executes ``argv``;
    every process it starts (the whole sandbox) inherits it. ``prepare_child`` runs in
    the child after that, before the exec; ``pass_fds`` stay open across it. ``outputs``
    bounds what the output folders and the log hold together, and sets RLIMIT_FSIZE in
    the child likewise if it says so. ``cwd`` is the child's current folder (the
    caller's unless given).
    """
    cap = outputs
    meter = OutputMeter(cap)
    file_size = cap.max_bytes if cap is not None and cap.limit_file_size else None
    log_tail, error_tail = LogTail(), LogTail()
    stop = current_stop()
    if stop is not None:
        stop.check()  # the run was interrupted: no new sandbox
    with _open_log(log_path) as log:
        started = time.monotonic()
        deadline = started + timeout_seconds
        process = _start(
            argv, _before_exec(address_space_bytes, file_size, prepare_child), env, pass_fds, cwd
        )
        try:
            # Ctrl-C heard by another thread kills it too, and is raised here after.
            with watched(process.pid):
                timed_out = not _pump(process, deadline, log, log_tail, error_tail, meter)
                if not (timed_out or meter.stop):
                    timed_out = not _wait(process, deadline, meter)
        except BaseException:
            # Interrupted (Ctrl-C, a bug): never leave a sandbox running behind us.
            _kill_group(process)
            process.wait()
            raise
        if timed_out or meter.stop:
            _kill_group(process)
        returncode = process.wait()
    meter.finish()
    return ProcessOutcome(
        returncode=returncode,
        duration_seconds=time.monotonic() - started,
        timed_out=timed_out and not meter.stop,
        log_tail=log_tail.lines(),
        error_tail=error_tail.lines(),
        last_error_line=error_tail.last_nonempty(),
        output_bytes=meter.total if cap is not None else None,
        output_exceeded=meter.exceeded,
        unreadable_output=meter.unreadable,
    )


def _wait(process: subprocess.Popen[bytes], deadline: float, meter: OutputMeter) -> bool:
    """Wait for a process that closed its output; False if the deadline came first.

    Returns early (True) when the meter says stop: the caller kills it.
    """
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            process.wait(timeout=min(remaining, meter.seconds_to_poll()))
            return True
        except subprocess.TimeoutExpired:
            meter.poll()  # It closed its output but may still be writing files.
            if meter.stop:
                return True


def _start(
    argv: Sequence[str],
    preexec: Callable[[], None] | None,
    env: Mapping[str, str] | None,
    pass_fds: Sequence[int],
    cwd: Path | None,
) -> subprocess.Popen[bytes]:
    try:
        # preexec_fn is the only way to act between fork and exec in Python 3.11; what
        # runs there only makes system calls on values prepared before the fork.
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec,
            env=dict(env) if env is not None else None,
            pass_fds=tuple(pass_fds),
            cwd=cwd,
        )
    except OSError as exc:
        raise SandboxError(f"could not start the sandbox {argv[0]!r}: {exc.strerror}") from exc
    except subprocess.SubprocessError as exc:
        # Python reports only that the step before exec failed, not which one.
        raise SandboxError(
            f"could not prepare the sandbox for {argv[0]!r} (its control group, keyring or "
            "mounts): run medval as an ordinary user, or as root with mount rights"
        ) from exc


def _pump(
    process: subprocess.Popen[bytes],
    deadline: float,
    log: BinaryIO | None,
    log_tail: LogTail,
    error_tail: LogTail,
    meter: OutputMeter,
) -> bool:
    """Copy output until both streams close; False if the deadline came first.

    Returns early (True) when the meter says stop: the caller kills the process.
    """
    assert process.stdout is not None and process.stderr is not None
    splitters = {process.stdout.fileno(): LineSplitter(), process.stderr.fileno(): LineSplitter()}
    stderr_fd = process.stderr.fileno()
    lines_log = _LineLog(log, meter, list(splitters))
    with selectors.DefaultSelector() as selector:
        for fd in splitters:
            selector.register(fd, selectors.EVENT_READ)
        try:
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                for key, _ in selector.select(timeout=min(remaining, meter.seconds_to_poll())):
                    fd = int(key.fd)
                    chunk = os.read(fd, _CHUNK)
                    if chunk:
                        lines_log.write(fd, chunk)
                        lines = splitters[fd].feed(chunk)
                    else:
                        selector.unregister(fd)
                        lines_log.write(fd, b"", final=True)
                        lines = splitters[fd].flush()
                    log_tail.extend(lines)
                    if fd == stderr_fd:
                        error_tail.extend(lines)
                meter.poll()
                if meter.stop:
                    return True
            return True
        finally:
            process.stdout.close()
            process.stderr.close()


class _LineLog:
    """Writes each stream to the log a whole line at a time, so that stdout and stderr
    interleave by lines, never inside one (a line longer than 64 KiB goes as it is)."""

    _LONGEST = 1 << 16

    def __init__(self, log: BinaryIO | None, meter: OutputMeter, fds: list[int]) -> None:
        self.log = log
        self.meter = meter
        self.pending = {fd: bytearray() for fd in fds}

    def write(self, fd: int, chunk: bytes, final: bool = False) -> None:
        buffer = self.pending[fd]
        buffer += chunk
        whole = final or len(buffer) > self._LONGEST
        cut = len(buffer) if whole else buffer.rfind(b"\n") + 1
        if not cut:
            return
        data = bytes(buffer[:cut])
        del buffer[:cut]
        kept = self.meter.keep_log(len(data))
        if self.log is not None and kept:
            self.log.write(data[:kept])
            self.log.flush()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The sandbox leads its own process group (start_new_session); kill all of it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _before_exec(
    address_space_bytes: int | None,
    file_size_bytes: int | None,
    prepare_child: Callable[[], None] | None,
) -> Callable[[], None] | None:
    if address_space_bytes is None and file_size_bytes is None and prepare_child is None:
        return None

    def apply() -> None:
        if address_space_bytes is not None:
            limit = address_space_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if file_size_bytes is not None:
            # No file may outgrow the output cap between two measurements of the outputs.
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_bytes, file_size_bytes))
        if prepare_child is not None:
            prepare_child()

    return apply


@contextlib.contextmanager
def _open_log(log_path: Path | None) -> Iterator[BinaryIO | None]:
    if log_path is None:
        yield None
        return
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = log_path.open("wb")
    except OSError as exc:
        raise SandboxError(f"cannot write the task log {log_path}: {exc.strerror}") from exc
    with handle:
        yield handle
