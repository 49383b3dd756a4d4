"""What a task may leave in its output folders, for every runner alike.

- How much: its output folders and its log together hold at most ``Limits.output_bytes``.
  The supervisor counts the log as it writes it and measures the folders every half
  second or so (:class:`OutputMeter`); past the cap the whole task is killed. The sandbox
  process also gets RLIMIT_FSIZE at the cap (engines: ``--ulimit fsize``), so no single
  file outgrows it between two measurements. A folder's size is what its entries take,
  each counted as its size rounded up to whole 4 KiB blocks (at least one): a million
  empty files cost as much as 4 GiB of data.
- What: after every task, whatever happened, set-user-ID and set-group-ID bits are
  stripped from everything in its output folders (:func:`strip_set_id_bits`), so a cube
  never leaves a program that runs as someone else on the host.

Both look with ``lstat`` only and never follow a link (:func:`medval.core.cube_files.walk`).
Each runner hands its task's cap (:meth:`OutputCap.of`) to the supervisor.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medval.core.cube_files import TreeChanged, UnreadableFolder, walk
from medval.core.errors import SandboxError
from medval.runner.invocation import TaskInvocation

if TYPE_CHECKING:  # interface.py imports this module.
    from medval.runner.interface import Limits

BLOCK = 4096
SET_ID_BITS = stat.S_ISUID | stat.S_ISGID
# Measure at least this often, and never spend more than a third of the time measuring.
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class OutputCap:
    """A task's output folders and the most they and its log may hold together.

    ``limit_file_size``: the supervisor sets RLIMIT_FSIZE to the cap in the sandbox
    process (False for engines, whose client must not have it: they pass it on).
    """

    folders: tuple[Path, ...]
    max_bytes: int
    limit_file_size: bool = True

    @classmethod
    def of(cls, invocation: TaskInvocation, limits: Limits, limit_file_size: bool) -> OutputCap:
        """The cap of one task: its writable mounts and ``Limits.output_bytes``."""
        folders = tuple(mount.folder for mount in invocation.mounts if mount.writable)
        return cls(folders, limits.output_bytes, limit_file_size)


def disk_bytes(status: os.stat_result) -> int:
    """What one entry counts: its size in whole 4 KiB blocks, at least one."""
    return max(1, -(-status.st_size // BLOCK)) * BLOCK


def measure(folders: Sequence[Path], stop_above: int | None = None) -> int:
    """What ``folders`` hold (see :func:`disk_bytes`); stops counting past ``stop_above``.

    Raises TreeChanged when a folder moves meanwhile, UnreadableFolder for one that even
    its owner cannot list.
    """
    total = 0
    for folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue
        for entry in walk(folder, repair=True):
            total += disk_bytes(entry.status)
            if stop_above is not None and total > stop_above:
                return total
    return total


class OutputMeter:
    """Keeps count of what a running task wrote: its log as it comes, its folders by poll.

    ``exceeded`` turns true once the sum passes the cap (the supervisor then kills the
    task); ``unreadable`` names a folder in the outputs that could not be measured.
    """

    def __init__(self, cap: OutputCap | None) -> None:
        self.cap = cap
        self.log_bytes = 0
        self.folder_bytes = 0
        self.unreadable: str | None = None
        self._next_poll = time.monotonic() + POLL_SECONDS

    @property
    def total(self) -> int:
        return self.log_bytes + self.folder_bytes

    @property
    def exceeded(self) -> bool:
        return self.cap is not None and self.total > self.cap.max_bytes

    @property
    def stop(self) -> bool:
        """Whether the task must be stopped now."""
        return self.exceeded or self.unreadable is not None

    def keep_log(self, size: int) -> int:
        """Count ``size`` new log bytes; how many of them may still be written to the log."""
        if self.cap is None:
            return size
        room = max(0, self.cap.max_bytes - self.total)
        self.log_bytes += size
        return min(size, room)

    def seconds_to_poll(self) -> float:
        if self.cap is None:
            return 3600.0
        return max(0.0, self._next_poll - time.monotonic())

    def poll(self) -> None:
        """Measure the folders if it is time (while the task runs)."""
        if self.cap is None or time.monotonic() < self._next_poll:
            return
        started = time.monotonic()
        with contextlib.suppress(TreeChanged):  # Moved while measured: next time.
            self._measure()
        spent = time.monotonic() - started
        self._next_poll = time.monotonic() + max(POLL_SECONDS, 2 * spent)

    def finish(self) -> None:
        """Measure once more, the task having ended (nothing moves any more)."""
        if self.cap is not None:
            with contextlib.suppress(TreeChanged):
                self._measure()

    def _measure(self) -> None:
        assert self.cap is not None
        try:
            self.folder_bytes = measure(self.cap.folders, self.cap.max_bytes - self.log_bytes)
        except UnreadableFolder as exc:
            self.unreadable = exc.relative.as_posix()


def strip_set_id_bits(folders: Sequence[Path]) -> None:
    """Clear set-user-ID and set-group-ID on everything under ``folders`` (no link followed).

    Called after the task has ended: nothing in the folders moves any more.
    """
    for folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue
        if os.lstat(folder).st_mode & SET_ID_BITS:
            os.chmod(folder, stat.S_IMODE(os.lstat(folder).st_mode) & ~SET_ID_BITS)
        try:
            for entry in walk(folder, repair=True):
                if entry.mode & SET_ID_BITS and not stat.S_ISLNK(entry.mode):
                    _chmod_entry(entry.folder, entry.name, stat.S_IMODE(entry.mode) & ~SET_ID_BITS)
        except (TreeChanged, UnreadableFolder, OSError) as exc:
            raise SandboxError(
                f"could not check what a task left in {folder} for set-user-ID files: {exc}"
            ) from exc


def _chmod_entry(folder: int, name: str, mode: int) -> None:
    """chmod ``name`` in ``folder`` through a descriptor that cannot be a link."""
    handle = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=folder)
    try:
        os.chmod(f"/proc/self/fd/{handle}", mode)
    finally:
        os.close(handle)
