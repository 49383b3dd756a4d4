"""Where a container format may mount a volume: any absolute path every runner can mount.

A declared ``mount_path`` is shown at exactly that path, a folder or a single file, on
bubblewrap, Docker and Podman alike, wherever it is: ``/medperf_statistics.yaml`` at the
root, ``/mlcommons/volumes/data``, a folder of the image (``/app/data``), a place that
the image lacks, or inside ``/tmp`` (on top of the task's fresh ``/tmp``). Refused at
registration, in one line naming the volume:

- what is not an absolute, normal path (relative, ``..``, ``//``), and ``/`` itself;
- ``/proc``, ``/dev``, ``/sys`` and anything in them: the sandbox makes them itself;
- ``/tmp`` itself: every task gets a fresh, empty ``/tmp`` (a folder inside it is fine);
- ``/cube`` and anything in it: medval's place for the cube's own files;
- ``/etc/hosts``, ``/etc/hostname``, ``/etc/resolv.conf``: the engines manage them;
- a path holding a comma, a quote or a control character: the engines' ``--mount``
  option cannot say it;
- one volume at or inside another's path in the same task: a mount point inside another
  mount would be made in the other's host folder (an input, read-only, or an output).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.errors import InvalidInput
from medval.core.formats.common import text_at

_SANDBOX_OWN = tuple(PurePosixPath(p) for p in ("/proc", "/dev", "/sys", "/cube"))
_EXACT = {
    PurePosixPath("/tmp"): "every task gets a fresh, empty /tmp",
    PurePosixPath("/etc/hosts"): "the container engines manage it",
    PurePosixPath("/etc/hostname"): "the container engines manage it",
    PurePosixPath("/etc/resolv.conf"): "the container engines manage it",
}
_UNSAYABLE = {",", '"', "'"}


def mount_path_at(where: Path, raw: Any, what: str) -> PurePosixPath:
    """A declared ``mount_path``, checked (see the module docstring)."""
    text = text_at(where, raw, f"{what} 'mount_path'")
    path = PurePosixPath(text)
    if path.root != "/" or ".." in path.parts or path == PurePosixPath("/"):
        raise InvalidInput(f"{where}: {what} 'mount_path' must be an absolute path below /")
    if any(char in _UNSAYABLE or ord(char) < 32 or ord(char) == 127 for char in text):
        raise InvalidInput(
            f"{where}: {what} 'mount_path' {text!r} holds a character a container mount "
            "cannot name (a comma, a quote or a control character)"
        )
    if any(path == own or path.is_relative_to(own) for own in _SANDBOX_OWN):
        top = f"/{path.parts[1]}"
        raise InvalidInput(
            f"{where}: {what} cannot be mounted at {path}: the sandbox makes {top} itself"
        )
    if path in _EXACT:
        raise InvalidInput(f"{where}: {what} cannot be mounted at {path}: {_EXACT[path]}")
    return path


def check_not_nested(where: Path, task: str, declared: dict[str, PurePosixPath]) -> None:
    """Refuse a volume at or inside another volume's path of the same task."""
    for name, path in declared.items():
        for other, outer in declared.items():
            if other == name:
                continue
            if path == outer:
                first, second = sorted((name, other))
                raise InvalidInput(
                    f"{where}: task {task!r} volumes {first!r} and {second!r} share {path}"
                )
            if path.is_relative_to(outer):
                raise InvalidInput(
                    f"{where}: task {task!r} volume {name!r} ({path}) is inside volume "
                    f"{other!r} ({outer}): medval does not mount one volume inside another"
                )
