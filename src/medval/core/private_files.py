"""Files and folders that only their owner may read: 0600 and 0700, whatever the umask.

The client's credential file, its local results and per-case predictions, and the
server's SQLite database hold what no other account on the machine may read. A mode
given to ``open``/``mkdir`` is cut by the umask and leaves an existing file as it was, so
each helper here sets the mode explicitly afterwards.

Imports: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (created when missing)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which is owner-only afterwards even if it existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(text)


def replace_private(path: Path, data: bytes) -> Path:
    """``data`` at ``path``, owner-only, replacing any file there in one step (a key: a
    reader sees the old one or the new one, never half of either)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_private(path: Path) -> None:
    """An existing file made owner-only (nothing when it is missing or a link)."""
    # Another account's file is not ours to change (and its owner decides who reads it).
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if not path.is_symlink():
            os.chmod(path, FILE_MODE)


def make_tree_private(root: Path) -> None:
    """Every folder under ``root`` (itself too) 0700, every file 0600; links are not
    followed. An entry another account owns (a cube run as root's leftovers) cannot be
    changed and is left as it is: its owner-only parent folder already hides it."""
    if root.is_symlink() or not root.is_dir():
        return
    for directory, folders, files in os.walk(root):
        _chmod(Path(directory), FOLDER_MODE)
        for name in folders + files:
            entry = Path(directory) / name
            try:
                mode = entry.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode):
                _chmod(entry, FILE_MODE)
            elif stat.S_ISDIR(mode):
                _chmod(entry, FOLDER_MODE)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(PermissionError, FileNotFoundError):
        os.chmod(path, mode)  # callers pass no links (lstat'ed first)
