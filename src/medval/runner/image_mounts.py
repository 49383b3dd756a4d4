"""A cube's own image as the local runner's root: its folders, read-only, with room for
every mount a container format declares, wherever it is.

The sandbox's root is bubblewrap's own tmpfs; the image's top-level entries are bound
into it read-only, one by one (never the unpacked root itself, so the mount points that
bubblewrap makes for ``/cube``, ``/mlcube_io`` and the declared mounts land in its fresh
root, never in the unpacked image). A mount at a path the image holds is bound over it.
A mount at a path the image lacks needs a mount point made for it: where that path is
inside one of the image's folders (``/app/data`` in an image with ``/app``), that folder
is not bound whole but made afresh in the tmpfs root, each of its entries bound into it
(and so on down the path), so the mount point is made in the tmpfs, as engines make it
in the container's root, and the image itself is never changed. A path that goes
through one of the image's links, or a file, cannot be made so: one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from medval.core.errors import SandboxError
from medval.runner.image_rootfs import UnpackedImage
from medval.runner.invocation import CUBE_DIR, IO_DIR, TaskInvocation

# Top-level folders of an image the sandbox makes afresh instead of showing the image's.
SANDBOX_OWN = frozenset({"proc", "dev", "sys", "tmp", CUBE_DIR.parts[1], IO_DIR.parts[1]})
_ROOT = PurePosixPath("/")


def image_mounts(
    image: UnpackedImage, invocation: TaskInvocation, source: Callable[[Path], str]
) -> list[str]:
    """The ``bwrap`` options that show the image's folders (see the module docstring)."""
    opened = _folders_to_open(image.rootfs, invocation)
    return _entries(image.rootfs, _ROOT, opened, source)


def _folders_to_open(rootfs: Path, invocation: TaskInvocation) -> set[PurePosixPath]:
    """The image's folders to make afresh: those holding a mount point the image lacks."""
    opened: set[PurePosixPath] = set()
    for mount in invocation.mounts:
        path = mount.sandbox_path
        if path.parts[1] in SANDBOX_OWN:
            continue
        ancestors: list[PurePosixPath] = []
        for depth in range(1, len(path.parts) - 1):
            folder = PurePosixPath(*path.parts[: depth + 1])
            host = _inside(rootfs, folder)
            if not os.path.lexists(host):
                break  # Made in the tmpfs root, with all below it.
            if host.is_symlink() or not host.is_dir():
                what = "a link" if host.is_symlink() else "a file"
                raise SandboxError(
                    f"{invocation.label}: its mount {path} goes through {folder}, which is "
                    f"{what} in its image: the local runner cannot make a mount point there"
                )
            ancestors.append(folder)
        else:
            if os.path.lexists(_inside(rootfs, path)):
                continue  # Bound over what the image holds there.
        opened.update(ancestors)
    return opened


def _entries(
    folder: Path,
    at: PurePosixPath,
    opened: set[PurePosixPath],
    source: Callable[[Path], str],
) -> list[str]:
    args: list[str] = []
    for entry in sorted(folder.iterdir()):
        target = at / entry.name
        if at == _ROOT and entry.name in SANDBOX_OWN:
            continue
        if target in opened:
            mode = entry.stat().st_mode & 0o7777
            args += ["--perms", f"{mode:04o}", "--dir", str(target)]
            args += _entries(entry, target, opened, source)
        elif entry.is_symlink():
            args += ["--symlink", os.readlink(entry), str(target)]
        elif entry.is_dir() or entry.is_file():
            args += ["--ro-bind", source(entry), str(target)]
    return args


def _inside(rootfs: Path, path: PurePosixPath) -> Path:
    return rootfs / str(path).lstrip("/")
