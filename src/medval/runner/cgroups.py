"""One memory and process limit for a whole task, through the kernel's control groups.

A task's processes, and the pages of its in-memory file systems (``/tmp``,
``/dev/shm``), are charged to the control group its first process joins before it
executes the sandbox; every process it starts stays in it. The group is made under the
client's own group, limited, and removed after the task:

- cgroup v1 (one hierarchy per controller, as here and on older systems):
  ``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes`` (no swap past it),
  ``pids.max``;
- cgroup v2 (the unified hierarchy): ``memory.max``, ``memory.swap.max`` = 0,
  ``pids.max``, where the client's group may delegate ``memory`` and ``pids``.

Where neither can be written (an ordinary user without a delegated group, most often),
:func:`find_support` says why, and the runner says so before the task runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from medval.core.errors import SandboxError

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")
# How long to wait in all for a group's last processes to go before giving up on it.
_GIVE_UP_SECONDS = 1.0
# A task group's name (task_group), and the age past which an empty one is left behind.
_TASK_GROUP_NAME = re.compile(r"medval-[0-9a-f]{12}")
LEFT_BEHIND_SECONDS = 600.0


@dataclass(frozen=True)
class Support:
    """Where task groups can be made: one parent folder per controller (v1), or one."""

    version: int
    parents: dict[str, Path]


@dataclass(frozen=True)
class TaskGroup:
    """The control group(s) of one running task."""

    version: int
    folders: dict[str, Path]

    def join_files(self) -> list[tuple[bytes, bytes | None]]:
        """What the task's first process writes, between fork and exec, to join the group:
        each file, and what to write to it (None: its own PID).

        Encoded beforehand. On cgroup v1 it writes ``0`` (the calling thread) to
        ``tasks``: the child, just forked, has one thread, so moving that thread moves the
        whole process, and the kernel moves a thread that moves itself without taking its
        global thread-group lock, whose taking waits out an RCU grace period (about 12 ms
        here, per task; writing the PID to ``cgroup.procs`` takes it). v2 has no such file
        for a domain group: its ``cgroup.procs``, with the PID.
        """
        folders = sorted(set(self.folders.values()))
        if self.version == 1:
            return [(os.fsencode(folder / "tasks"), b"0") for folder in folders]
        return [(os.fsencode(folder / "cgroup.procs"), None) for folder in folders]

    def ran_out_of_memory(self) -> bool:
        """The kernel killed a process of the task for want of memory."""
        folder = self.folders["memory"]
        if self.version == 2:
            return _counter(folder / "memory.events", "oom_kill") > 0
        return _counter(folder / "memory.oom_control", "oom_kill") > 0

    def hit_process_limit(self) -> bool:
        """A fork or a new thread was refused at the process limit."""
        return _counter(self.folders["pids"] / "pids.events", "max") > 0

    def kill_all(self) -> None:
        """Kill every process still in the group (after a timeout, or left behind)."""
        for pause in _pauses():
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(pause)

    def remove(self) -> None:
        self.kill_all()
        for folder in set(self.folders.values()):
            for pause in _pauses():
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(pause)  # Its last processes are still being reaped.

    def _pids(self) -> list[int]:
        pids: set[int] = set()
        for folder in set(self.folders.values()):
            with contextlib.suppress(OSError):
                pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)


def find_support(root: Path = ROOT, own: Mapping[str, str] | None = None) -> Support | str:
    """Where this process may make task groups, or why it may not (one line).

    ``own`` is this process's group per v1 controller and its v2 group under ``""``
    (read from ``/proc/self/cgroup`` when not given).
    """
    own = _own_groups() if own is None else own
    v1 = {name: root / name / own[name].lstrip("/") for name in CONTROLLERS if name in own}
    if len(v1) == len(CONTROLLERS) and all((root / name).is_dir() for name in CONTROLLERS):
        blocked = [str(path) for path in v1.values() if not os.access(path, os.W_OK)]
        if blocked:
            return f"the control groups {', '.join(blocked)} are not writable by this account"
        return Support(1, v1)
    if "" in own and (root / "cgroup.controllers").is_file():
        parent = root / own[""].lstrip("/")
        available = set((parent / "cgroup.controllers").read_text().split())
        missing = [name for name in CONTROLLERS if name not in available]
        if missing:
            return f"the control group {parent} does not offer {', '.join(missing)}"
        if not os.access(parent, os.W_OK):
            return f"the control group {parent} is not writable by this account"
        return Support(2, dict.fromkeys(CONTROLLERS, parent))
    return "this machine has no memory and pids control groups"


@contextlib.contextmanager
def task_group(support: Support, memory_bytes: int, max_processes: int) -> Iterator[TaskGroup]:
    """A fresh group with the task's limits, removed (its processes killed) afterwards."""
    remove_left_behind(support)
    name = f"medval-{uuid.uuid4().hex[:12]}"
    folders = {controller: parent / name for controller, parent in support.parents.items()}
    group = TaskGroup(support.version, folders)
    try:
        for folder in set(folders.values()):
            folder.mkdir()
        if support.version == 2:
            _enable_controllers(support.parents["memory"])
            _write(folders["memory"] / "memory.max", memory_bytes)
            _write(folders["memory"] / "memory.swap.max", 0, optional=True)
        else:
            _write(folders["memory"] / "memory.limit_in_bytes", memory_bytes)
            _write(folders["memory"] / "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
        _write(folders["pids"] / "pids.max", max_processes)
    except OSError as exc:
        group.remove()
        raise SandboxError(f"cannot make the task's control group: {exc}") from exc
    try:
        yield group
    finally:
        group.remove()


def remove_left_behind(support: Support, now: float | None = None) -> int:
    """Remove the task groups that clients killed mid-task left behind (a SIGKILLed
    client cannot remove its group; its processes are gone with it, see
    :mod:`medval.runner.task_namespace`); how many were removed.

    Only medval's own task groups (named as :func:`task_group` names them), older than
    ten minutes and empty: the kernel refuses to remove a group that still holds a
    process, so a running task's group stays, and a group just made, not yet joined, is
    younger than that.
    """
    now = time.time() if now is None else now
    removed = 0
    for parent in set(support.parents.values()):
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for entry in entries:
            if _TASK_GROUP_NAME.fullmatch(entry.name) is None:
                continue
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime < LEFT_BEHIND_SECONDS:
                    continue
                os.rmdir(entry.path)
            except OSError:
                continue  # A process still in it, a child group, or gone already.
            removed += 1
    return removed


def _pauses() -> Iterator[float]:
    """The pauses between looks at a group that still holds processes: short at first,
    since what is left after a task has ended is mostly the sandbox's first process,
    gone within a millisecond or two (bubblewrap's outer process may report the task's
    status and exit before it), then every 20 ms, until about
    :data:`_GIVE_UP_SECONDS` in all."""
    waited, pause = 0.0, 0.001
    while waited < _GIVE_UP_SECONDS:
        yield pause
        waited += pause
        pause = min(2 * pause, 0.02)


def _enable_controllers(parent: Path) -> None:
    """cgroup v2 gives a child the controllers its parent lists in ``subtree_control``."""
    enabled = set((parent / "cgroup.subtree_control").read_text().split())
    wanted = [f"+{name}" for name in CONTROLLERS if name not in enabled]
    if wanted:
        (parent / "cgroup.subtree_control").write_text(" ".join(wanted))


def _own_groups() -> dict[str, str]:
    """This process's group per v1 controller, and its v2 group under the key ''."""
    groups: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                groups[controller] = path
    return groups


def _write(path: Path, value: int, optional: bool = False) -> None:
    if optional and not path.exists():
        return
    path.write_text(str(value))


def _counter(path: Path, key: str) -> int:
    """``key N`` from a flat keyed file such as ``memory.events``; 0 when absent."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
