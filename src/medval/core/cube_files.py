"""Reading what a cube wrote without trusting it: no link followed, nothing special opened.

A cube chooses every name, kind and size in what it leaves behind (its outputs, prepared
data), so everything here looks with ``lstat`` and never through a link; folders are
opened relative to their parent's descriptor with ``O_NOFOLLOW`` (a folder swapped for a
link meanwhile is not entered) and only ever by one descriptor at a time, so a tree of
any depth costs neither recursion nor open files; files are opened with ``O_NOFOLLOW``
and ``O_NONBLOCK`` (a FIFO cannot block the client) and checked again with ``fstat``.
Imports nothing but the standard library and the errors.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.core.errors import InvalidInput

_KINDS = {
    stat.S_IFREG: "a file",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SWAPPED = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def kind_of(mode: int) -> str:
    """``a file``, ``a folder``, ``a symbolic link``, ``a FIFO``, ..."""
    return _KINDS.get(stat.S_IFMT(mode), "an unknown kind of file")


class TreeChanged(Exception):
    """A folder moved while it was being walked (only a running task can do that)."""


class UnreadableFolder(InvalidInput):
    """A folder that cannot be listed (``relative`` to the root of the walk)."""

    def __init__(self, root: Path, relative: PurePosixPath) -> None:
        super().__init__(f"a folder that cannot be read: {root / relative}")
        self.relative = relative


@dataclass(frozen=True)
class Entry:
    """One entry of a tree, as ``lstat`` saw it.

    ``folder`` is a descriptor of the folder holding it, valid until the walk goes on:
    act on the entry as ``name`` relative to it (a path may be too long for the system).
    """

    path: str  # relative to the root, with "/" between parts
    status: os.stat_result
    name: str
    folder: int

    @property
    def relative(self) -> PurePosixPath:
        return PurePosixPath(self.path)

    @property
    def mode(self) -> int:
        return self.status.st_mode


def walk(root: Path, repair: bool = False) -> Iterator[Entry]:
    """Every entry below ``root`` (root itself not included) in order of name, each folder
    followed by its entries; a link is an entry and its target is never looked at.

    ``root`` itself must be a folder, not a link. A folder that cannot be listed raises
    :class:`UnreadableFolder`, unless ``repair`` and we own it (a cube running as us made
    it so): then it is made readable to us first. A folder moved during the walk (only a
    task still running can) raises :class:`TreeChanged`.
    """
    descriptor = os.open(root, _FOLDER_FLAGS)
    # One frame per level down to here: the names still to visit, where, and which folder.
    # Where is a string, not a PurePosixPath: making one per entry was half the time of
    # hashing 20,000 small files (bench/dataset_hashing.py).
    frames: list[tuple[list[str], str, tuple[int, int]]] = []
    try:
        frames.append((_names(descriptor), "", _identity(descriptor)))
        while frames:
            pending, where, _ = frames[-1]
            if not pending:
                frames.pop()
                if frames:  # Back up to the parent we came from, and make sure it is it.
                    opened = _open_folder(descriptor, "..", root, where, repair=False)
                    descriptor = _switch(descriptor, opened, frames[-1][2])
                continue
            name = pending.pop()
            try:
                status = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
            except FileNotFoundError:
                continue  # Removed since it was listed (by a task still running).
            path = f"{where}/{name}" if where else name
            yield Entry(path, status, name, descriptor)
            if stat.S_ISDIR(status.st_mode):
                identity = (status.st_dev, status.st_ino)
                opened = _open_folder(descriptor, name, root, path, repair)
                descriptor = _switch(descriptor, opened, identity)
                frames.append((_names(descriptor), path, identity))
    finally:
        os.close(descriptor)


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The content of the regular file at ``path``, never through a link.

    Raises FileNotFoundError when absent, :class:`NotRegular` for any other kind (never
    opened), and :class:`TooLarge` when it holds more than ``max_bytes`` (nothing read).
    """
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegular(kind_of(mode))
    descriptor = os.open(path, _FILE_FLAGS)  # Swapped meanwhile: no link followed, no wait.
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise NotRegular(kind_of(status.st_mode))
        if status.st_size > max_bytes:
            raise TooLarge(status.st_size)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # It grew after fstat.
        raise TooLarge(len(data))
    return data


class NotRegular(Exception):
    """Not a regular file; ``kind`` says what it is (``a symbolic link``, ``a FIFO``...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TooLarge(Exception):
    """A file larger than was allowed; ``size`` is what it holds (or at least that)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _names(descriptor: int) -> list[str]:
    """The folder's entry names, last first (they are taken from the end)."""
    return sorted(os.listdir(descriptor), reverse=True)


def _identity(descriptor: int) -> tuple[int, int]:
    status = os.fstat(descriptor)
    return status.st_dev, status.st_ino


def _switch(current: int, opened: int, expected: tuple[int, int]) -> int:
    """Go on in ``opened`` instead of ``current``, if it is the folder recorded."""
    if _identity(opened) != expected:
        os.close(opened)
        raise TreeChanged()
    os.close(current)
    return opened


def _open_folder(parent: int, name: str, root: Path, relative: str, repair: bool) -> int:
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except PermissionError as exc:
        if not repair:
            raise UnreadableFolder(root, PurePosixPath(relative)) from exc
    except OSError as exc:
        if exc.errno in _SWAPPED:  # Removed, or swapped for a file or a link, meanwhile.
            raise TreeChanged() from exc
        raise
    # Our own folder that its (cube) owner made unreadable: make it readable to us again,
    # through a descriptor that cannot be a link, then try once more.
    try:
        handle = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            mode = os.fstat(handle).st_mode
            os.chmod(f"/proc/self/fd/{handle}", stat.S_IMODE(mode) | stat.S_IRWXU)
        finally:
            os.close(handle)
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise UnreadableFolder(root, PurePosixPath(relative)) from exc
