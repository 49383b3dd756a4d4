"""Temporary folders that a killed command does not leave behind for good.

A command removes its temporary folders when it ends, but a command killed (SIGKILL, a
power cut) runs no clean-up: a container image saved for its upload (gigabytes), a
cube unpacked for a task, a compatibility test's data would stay in the temporary
folder forever, since every later command makes new ones under new random names.

So each temporary folder's name carries the id of the process that made it
(``<prefix>p<pid>-<random>``), and making one first removes the folders of the same
prefix whose process is gone (and that belong to this account). A process id that was
reused only keeps a leftover longer; a folder of a live process is never touched.

Imports: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_OWNED = re.compile(r"p([0-9]+)-[A-Za-z0-9_]+")


def make_scratch(root: Path | None, prefix: str) -> Path:
    """A new folder in ``root`` (the system's temporary folder when None), after the
    leftovers of ``prefix`` from processes that are gone are removed."""
    base = root if root is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(base, prefix)
    return Path(tempfile.mkdtemp(dir=base, prefix=f"{prefix}p{os.getpid()}-"))


@contextmanager
def scratch_folder(prefix: str, root: Path | None = None) -> Iterator[Path]:
    """``make_scratch``, removed when the block ends (whatever happens in it)."""
    folder = make_scratch(root, prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_leftovers(base: Path, prefix: str) -> list[Path]:
    """Remove the folders of ``prefix`` in ``base`` whose process is gone; returns them."""
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        owned = _OWNED.fullmatch(entry.name[len(prefix) :])
        if owned is None or _alive(int(owned.group(1))):
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another account's process, or not a pid: leave it
    # A zombie (killed, not yet reaped by its parent) holds nothing any more.
    with contextlib.suppress(OSError, IndexError), open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    return True


MEMORY_BACKED = Path("/dev/shm")  # a tmpfs on most Linux systems


def memory_backed_root(candidate: Path = MEMORY_BACKED) -> Path | None:
    """``candidate`` when it is a memory-backed file system (tmpfs) this account may
    write in: what is written there never reaches a disk (unless the machine swaps)."""
    try:
        with open("/proc/self/mounts") as mounts:
            kinds = {fields[1]: fields[2] for fields in (line.split() for line in mounts)}
    except OSError:
        return None
    if kinds.get(str(candidate)) != "tmpfs" or not os.access(candidate, os.W_OK | os.X_OK):
        return None
    return candidate


def private_root(base: Path, name: str) -> Path | None:
    """``base/name`` as a folder only this account may enter (0700), made when missing;
    None when it is not this account's own folder (another's, or a link)."""
    folder = base / name
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    try:
        status = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
        return None
    os.chmod(folder, 0o700)
    return folder
