"""Who a cube runs as, and what that uid must be able to read and write.

Run by root, a sandbox never runs the cube as root: it is uid/gid 65534 (nobody), on
the host as well as inside (bubblewrap maps it so; the engines run it so). Its code and
inputs must then be readable by that uid, and its output folders are lent to it for
the task and handed back to the invoking user afterwards, so no file of the cube's
stays owned by anyone else. Run by an ordinary user, the cube is that user (bubblewrap
maps its uid 65534 to the user's; rootless engines keep the user's uid), who owns the
outputs already.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medval.core.cube_files import walk
from medval.core.errors import SandboxError
from medval.runner.invocation import TaskInvocation

NOBODY = 65534


@dataclass(frozen=True)
class Identity:
    """The uid and gid a cube runs as, and who gets its outputs back."""

    uid: int
    gid: int
    owner_uid: int
    owner_gid: int

    @classmethod
    def for_invoking_user(cls) -> Identity:
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:
            return cls(NOBODY, NOBODY, 0, gid)
        return cls(uid, gid, uid, gid)


def check_readable(invocation: TaskInvocation, identity: Identity) -> None:
    """As root, the cube runs as another uid: it must be able to read its code and inputs.

    Checked here so that the data owner gets one clear line, not a cube's "Permission
    denied" from inside the container.
    """
    if identity.uid == identity.owner_uid:
        return
    folders = [("the cube folder", invocation.cube_folder)] + [
        (f"input {mount.name!r}", mount.host_path)
        for mount in invocation.mounts
        if not mount.writable
    ]
    if invocation.python_environment is not None:
        folders.append(("the cube's Python environment", invocation.python_environment))
    for what, folder in folders:
        blocked = _first_unreadable(folder)
        if blocked is not None:
            raise SandboxError(
                f"the sandbox user (uid {identity.uid}) cannot read {what} at {blocked}: "
                f"make it readable (chmod -R o+rX {folder}) or run medval as an ordinary user"
            )


def _first_unreadable(folder: Path) -> Path | None:
    """The first path in the tree that 'others' cannot read (or traverse, for folders).

    The folders above it do not matter: a bind mount shows the folder itself. Links are
    skipped, never followed: what one points at inside the mount is checked as itself,
    and anything outside is not the cube's to see (nor this message's to reveal).
    """
    status = os.lstat(folder)
    if _blocked(status.st_mode):
        return folder
    if not stat.S_ISDIR(status.st_mode):
        return None
    for entry in walk(folder):
        if not stat.S_ISLNK(entry.mode) and _blocked(entry.mode):
            return folder / entry.relative
    return None


def _blocked(mode: int) -> bool:
    needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return mode & needed != needed


@contextlib.contextmanager
def outputs_lent(invocation: TaskInvocation, identity: Identity) -> Iterator[None]:
    """Hand the output folders to the cube's uid for the run, then back to their owner."""
    outputs = [mount.folder for mount in invocation.mounts if mount.writable]
    if identity.uid == identity.owner_uid:
        yield
        return
    for folder in outputs:
        _chown_tree(folder, identity.uid, identity.gid)
    try:
        yield
    finally:
        for folder in outputs:
            _chown_tree(folder, identity.owner_uid, identity.owner_gid)


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    """Without following links, at any depth (a cube may nest folders past what recursion
    or a path can reach: the walk goes by descriptors, one level at a time)."""
    os.lchown(folder, uid, gid)
    for entry in walk(folder):
        os.chown(entry.name, uid, gid, dir_fd=entry.folder, follow_symlinks=False)
