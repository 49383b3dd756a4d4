"""Flower processes medval starts: each leads its own process group, and stopping one
stops everything it started.

Flower's processes start others (the SuperLink starts ``flower-superexec`` in a session
of its own, which starts ``flwr-serverapp`` for each run); they watch their parent and
exit when it goes, but only after a while and only if nothing hangs. So stopping a
process here kills its own group and the group of every process below it, found by
walking ``/proc`` from its id, never by name. Imports the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def start_process(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """``argv`` as the leader of a new process group, its output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def descendant_groups(pid: int) -> set[int]:
    """The process groups of every live process below ``pid`` (its own included), never
    the caller's own group."""
    children: dict[int, list[int]] = {}
    groups: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        child, parent, group = int(entry.name), int(fields[1]), int(fields[2])
        children.setdefault(parent, []).append(child)
        groups[child] = group
    found: set[int] = set()
    own = os.getpgrp()
    stack = [pid]
    while stack:
        current = stack.pop()
        if current in groups and groups[current] != own:
            found.add(groups[current])
        stack.extend(children.get(current, []))
    return found


def stop_process_tree(process: subprocess.Popen[Any], grace_seconds: float = 5.0) -> None:
    """Stop ``process`` and all below it: SIGTERM to every group, SIGKILL to what is left
    after ``grace_seconds``."""
    groups = descendant_groups(process.pid) | {process.pid}
    _signal_groups(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None and not _any_alive(groups):
            break
        time.sleep(0.1)
    groups |= descendant_groups(process.pid) if process.poll() is None else set()
    _signal_groups(groups, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    # SIGKILL lands when a process next leaves the kernel: under load, a moment later.
    deadline = time.monotonic() + 5
    while _any_alive(groups) and time.monotonic() < deadline:
        time.sleep(0.05)


def kill_process_tree(process: subprocess.Popen[Any]) -> None:
    """SIGKILL to ``process``'s group and every group below it, at once."""
    _signal_groups(descendant_groups(process.pid) | {process.pid}, signal.SIGKILL)


def _signal_groups(groups: set[int], sig: signal.Signals) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def _any_alive(groups: set[int]) -> bool:
    return bool(live_members(groups))


def live_members(groups: set[int]) -> set[int]:
    """The processes of ``groups`` that still run. A zombie does not count: it has exited
    and waits only for its parent (or, once that is gone, whatever reaps orphans here;
    some containers' first process never does) to collect its status, yet ``kill(pid, 0)``
    still finds it, so that test alone would call a stopped tree alive."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) in groups:
            found.add(int(entry.name))
    return found
