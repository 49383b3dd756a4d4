"""Turn "run task T of this cube with these host folders" into a checked plan.

The plan is the same for every sandbox: which host folder appears where, which are
writable, and the command line as the cube sees it. Checking it here, before any
sandbox starts, gives every runner the same errors for the same mistakes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.core.cube_spec import PARAMETERS_FILE, CubeSpec
from medval.core.errors import InvalidInput, SandboxError

CUBE_DIR = PurePosixPath("/cube")
IO_DIR = PurePosixPath("/mlcube_io")
# Entrypoint first words that mean "the Python of the sandbox".
PYTHON_WORDS = frozenset({"python", "python3"})
# An image is run by its ID only: the sha256 of its configuration, never a tag.
IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Mount:
    """One host directory shown to the cube at ``sandbox_path``."""

    name: str
    host_path: Path
    sandbox_path: PurePosixPath
    writable: bool


@dataclass(frozen=True)
class TaskInvocation:
    """A validated request to run one task: every mount exists and none is misplaced."""

    cube: str
    task: str
    cube_folder: Path
    entrypoint: tuple[str, ...]
    mounts: tuple[Mount, ...]
    parameters_file: PurePosixPath | None
    # The cube's own container image, by ID; None runs it on the runner's own Python.
    image: str | None = None

    def arguments(self) -> list[str]:
        """The ``--NAME=PATH`` arguments, as paths inside the sandbox."""
        args = [f"--{mount.name}={mount.sandbox_path}" for mount in self.mounts]
        if self.parameters_file is not None:
            args.append(f"--parameters_file={self.parameters_file}")
        return args

    def command(self, python: str | None) -> list[str]:
        """The full command line, with a leading ``python`` replaced by ``python``
        (kept as it is when ``python`` is None: the cube's own image has its own)."""
        first, *rest = self.entrypoint
        if first in PYTHON_WORDS and python is not None:
            first = python
        return [first, *rest, *self.arguments()]

    @property
    def label(self) -> str:
        """How messages name this task: ``task 'infer' of cube 'my-model'``."""
        return f"task {self.task!r} of cube {self.cube!r}"


def plan_invocation(
    cube_folder: Path,
    spec: CubeSpec,
    task: str,
    mounts: Mapping[str, Path],
    image: str | None = None,
) -> TaskInvocation:
    """Check the task, its mounts and its image; create absent output folders.

    ``image`` is the pinned ID of the cube's container image; a cube whose spec names an
    image runs only with one (its spec's reference is the author's, never run).
    """
    task_spec = spec.task(task)
    if image is not None and not IMAGE_ID.match(image):
        raise InvalidInput(f"cube {spec.name!r}: {image!r} is not an image ID (sha256:<64 hex>)")
    if spec.image is not None and image is None:
        raise SandboxError(
            f"cube {spec.name!r} names the image {spec.image} but was given no pinned image "
            "ID to run; register it with its image"
        )
    inputs, outputs = task_spec.io.inputs, task_spec.io.outputs
    _check_names(f"task {task!r} of cube {spec.name!r}", inputs + outputs, mounts)
    cube_folder = cube_folder.resolve()
    if not cube_folder.is_dir():
        raise SandboxError(f"cube folder is missing: {cube_folder}")

    planned: list[Mount] = []
    for name in inputs:
        host = Path(mounts[name]).resolve()
        if not host.is_dir():
            raise SandboxError(f"input mount {name!r} is missing: no directory at {host}")
        planned.append(Mount(name, host, IO_DIR / name, writable=False))
    for name in outputs:
        planned.append(Mount(name, Path(mounts[name]).resolve(), IO_DIR / name, writable=True))
    _check_no_overlap(cube_folder, planned)
    for mount in planned:
        if mount.writable:
            _create_output(mount)

    parameters = CUBE_DIR / PARAMETERS_FILE if spec.has_parameters else None
    return TaskInvocation(
        cube=spec.name,
        task=task,
        cube_folder=cube_folder,
        entrypoint=task_spec.entrypoint,
        mounts=tuple(planned),
        parameters_file=parameters,
        image=image,
    )


def _create_output(mount: Mount) -> None:
    try:
        mount.host_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SandboxError(
            f"output mount {mount.name!r} cannot be created at {mount.host_path}: {exc.strerror}"
        ) from exc
    if not mount.host_path.is_dir():
        raise SandboxError(f"output mount {mount.name!r} is not a directory: {mount.host_path}")


def _check_names(label: str, expected: tuple[str, ...], mounts: Mapping[str, Path]) -> None:
    missing = [name for name in expected if name not in mounts]
    unknown = sorted(set(mounts) - set(expected))
    if missing or unknown:
        takes = ", ".join(expected) if expected else "no mounts"
        raise InvalidInput(
            f"{label} takes {takes}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )


def _check_no_overlap(cube_folder: Path, mounts: list[Mount]) -> None:
    """A writable mount must not reach into a read-only one (or the cube), nor the reverse.

    Otherwise a cube could change its own inputs or code through an output folder, and
    the hashes verified before the run would no longer describe what it read.
    """
    read_only = [("the cube folder", cube_folder)] + [
        (f"input {m.name!r}", m.host_path) for m in mounts if not m.writable
    ]
    for output in (m for m in mounts if m.writable):
        for what, path in read_only:
            if _overlaps(output.host_path, path):
                raise InvalidInput(
                    f"output mount {output.name!r} ({output.host_path}) overlaps {what} ({path})"
                )


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)
