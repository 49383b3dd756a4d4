"""Turn "run task T of this cube with these host folders" into a checked plan.

The plan is the same for every sandbox: which host folder appears where, which are
writable, and the command line as the cube sees it. Checking it here, before any
sandbox starts, gives every runner the same errors for the same mistakes.

A cube in a container format (MLCube, MedPerf; see :mod:`medval.core.formats`) shows
only the mounts it declares, at the paths it declares; its parameters file is mounted
as a file, and its additional files as a read-only folder (an ``additional_files.tar.gz``
is unpacked for each run into a fresh folder, removed with the plan), as are the inputs
it brings itself (a file or folder of its additional files or its ``workspace/``). Its
command may be the image's own entrypoint: :meth:`TaskInvocation.image_command` says
what a container runner passes. The variables it declares travel with the plan
(:meth:`TaskInvocation.task_environment` puts medval's own over them), and so does
where it starts (:meth:`TaskInvocation.working_directory`).
"""

from __future__ import annotations

import os
import re
import shutil
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from medval.core.cube_spec import PARAMETERS_FILE, CubeSpec, MountPoint
from medval.core.errors import InvalidInput, SandboxError
from medval.core.formats.mapping import ADDITIONAL_FILES_MOUNT, PARAMETERS_MOUNT
from medval.core.gpus import GpuDevices, GpuNeed
from medval.core.hashing import unpack_archive
from medval.core.scratch import make_scratch
from medval.core.task_environment import task_environment

CUBE_DIR = PurePosixPath("/cube")
IO_DIR = PurePosixPath("/mlcube_io")
# Entrypoint first words that mean "the Python of the sandbox".
PYTHON_WORDS = frozenset({"python", "python3"})
# An image is run by its ID only: the sha256 of its configuration, never a tag.
IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Mount:
    """One host directory, or one file (``is_file``), shown at ``sandbox_path``."""

    name: str
    host_path: Path
    sandbox_path: PurePosixPath
    writable: bool
    is_file: bool = False

    @property
    def folder(self) -> Path:
        """The host folder that holds what the task may write through this mount."""
        return self.host_path.parent if self.is_file else self.host_path


@dataclass(frozen=True)
class TaskInvocation:
    """A validated request to run one task: every mount exists and none is misplaced."""

    cube: str
    task: str
    cube_folder: Path
    entrypoint: tuple[str, ...]
    mounts: tuple[Mount, ...]
    parameters_file: PurePosixPath | None
    leading_arguments: tuple[str, ...] = ()
    replaces_image_entrypoint: bool = False
    # None: each mount's sandbox path, then the parameters file (medval's own format).
    argument_paths: tuple[tuple[str, PurePosixPath], ...] | None = None
    # The cube's own container image, by ID; None runs it on the runner's own Python.
    image: str | None = None
    # Variables the cube declares for the task (medval's own are put over them).
    environment: tuple[tuple[str, str], ...] = ()
    # In its own image: start in the image's WORKDIR (the container formats), not /cube.
    in_image_workdir: bool = False
    # The cube's own Python environment (a virtual environment built from its wheels),
    # shown read-only at this same path: ``python`` is its interpreter, not the runner's.
    python_environment: Path | None = None
    # The GPUs the task is given (none unless the run asks and the cube uses GPUs).
    gpus: GpuDevices = field(default_factory=GpuDevices)

    def task_environment(
        self, image_env: tuple[tuple[str, str], ...] | None, runner_path: str | None = None
    ) -> dict[str, str]:
        """The whole environment of the task: its image's ``Env`` (None: no image; then
        ``runner_path`` is ``PATH``), the cube's variables, medval's fixed ones."""
        return task_environment(self.environment, image_env, runner_path)

    def working_directory(self, image_workdir: str) -> str:
        """Where the task starts: ``/cube``, or in its own image as a container format
        says, the image's ``WORKDIR`` (``image_workdir``), else ``/``, as engines do."""
        if self.image is not None and self.in_image_workdir:
            return image_workdir or "/"
        return str(CUBE_DIR)

    def arguments(self) -> list[str]:
        """The words after the entrypoint: fixed words, then ``--NAME=PATH`` in the sandbox."""
        paths = self.argument_paths
        if paths is None:
            paths = tuple((mount.name, mount.sandbox_path) for mount in self.mounts)
            if self.parameters_file is not None:
                paths += (("parameters_file", self.parameters_file),)
        return [*self.leading_arguments, *(f"--{name}={path}" for name, path in paths)]

    def command(self, python: str | None) -> list[str]:
        """The full command line, with a leading ``python`` replaced by ``python``
        (kept as it is when ``python`` is None: the cube's own image has its own)."""
        if not self.entrypoint:
            raise SandboxError(
                f"{self.label} runs its image's own entrypoint: it needs a container runner"
            )
        first, *rest = self.entrypoint
        if first in PYTHON_WORDS and python is not None:
            first = python
        return [first, *rest, *self.arguments()]

    def image_command(self) -> tuple[str | None, list[str]]:
        """For a cube's own image: the entrypoint to set instead of the image's (None:
        keep the image's), and the words to pass after the image name."""
        if self.replaces_image_entrypoint and self.entrypoint:
            first, *rest = self.entrypoint
            return first, [*rest, *self.arguments()]
        return None, [*self.entrypoint, *self.arguments()]

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
    python_environment: Path | None = None,
    gpus: GpuDevices | None = None,
) -> TaskInvocation:
    """Check the task, its mounts and its image; create absent output folders.

    ``gpus`` (the run's, found on this machine) are the task's only if the cube declares
    it needs or can use a GPU; a cube that declares none gets no device.

    ``image`` is the pinned ID of the cube's container image; a cube whose spec names an
    image runs only with one (its spec's reference is the author's, never run). So does
    a cube that declares a Python environment: ``python_environment`` is the folder it
    was built in (:mod:`medval.runner.python_environments`).
    """
    task_spec = spec.task(task)
    if image is not None and not IMAGE_ID.match(image):
        raise InvalidInput(f"cube {spec.name!r}: {image!r} is not an image ID (sha256:<64 hex>)")
    if spec.image is not None and image is None:
        raise SandboxError(
            f"cube {spec.name!r} names the image {spec.image} but was given no pinned image "
            "ID to run; register it with its image"
        )
    if spec.python_environment is not None and python_environment is None:
        raise SandboxError(
            f"cube {spec.name!r} declares a Python environment, which was not built: "
            "run it through the medval client, which builds it from the cube's wheels"
        )
    io = task_spec.io
    inputs, outputs = io.inputs, io.outputs
    optional = io.optional_inputs + io.optional_outputs
    _check_names(f"task {task!r} of cube {spec.name!r}", inputs + outputs, mounts, optional)
    cube_folder = cube_folder.resolve()
    if not cube_folder.is_dir():
        raise SandboxError(f"cube folder is missing: {cube_folder}")

    declared = {point.name for point in task_spec.mount_points or ()}
    for name in inputs + tuple(n for n in io.optional_inputs if n in declared):
        if name not in mounts:
            raise InvalidInput(f"task {task!r} of cube {spec.name!r} declares {name!r}: none given")
        host = Path(mounts[name]).resolve()
        if not host.is_dir():
            raise SandboxError(f"input mount {name!r} is missing: no directory at {host}")
    unpacked: list[Path] = []  # Folders made for this plan only.
    try:
        if task_spec.mount_points is None:
            planned = [Mount(n, Path(mounts[n]).resolve(), IO_DIR / n, False) for n in inputs]
            if spec.additional_files is not None:  # a native cube's, declared in its spec
                host = _additional_files(cube_folder, spec, unpacked)
                name = ADDITIONAL_FILES_MOUNT
                planned.append(Mount(name, host, IO_DIR / name, writable=False))
            planned += [Mount(n, Path(mounts[n]).resolve(), IO_DIR / n, True) for n in outputs]
            argument_paths = None
            parameters = CUBE_DIR / PARAMETERS_FILE if spec.has_parameters else None
        else:
            planned, argument_paths = _declared_mounts(
                cube_folder,
                spec,
                task_spec.mount_points,
                outputs + io.optional_outputs,
                mounts,
                unpacked,
            )
            parameters = None
        _check_no_overlap(cube_folder, planned)
        for mount in planned:
            if mount.writable:
                _create_output(mount)
    except (InvalidInput, SandboxError):
        for folder in unpacked:
            shutil.rmtree(folder, ignore_errors=True)
        raise

    invocation = TaskInvocation(
        cube=spec.name,
        task=task,
        cube_folder=cube_folder,
        entrypoint=task_spec.entrypoint,
        mounts=tuple(planned),
        parameters_file=parameters,
        leading_arguments=task_spec.leading_arguments,
        replaces_image_entrypoint=task_spec.replaces_image_entrypoint,
        argument_paths=argument_paths if task_spec.path_arguments else (),
        image=image,
        environment=task_spec.environment,
        in_image_workdir=task_spec.in_image_workdir,
        python_environment=python_environment,
        gpus=gpus if gpus is not None and spec.gpu is not GpuNeed.NONE else GpuDevices(),
    )
    for folder in unpacked:
        # Removed when the plan is let go (after the run), or when the client exits.
        weakref.finalize(invocation, shutil.rmtree, folder, True)
    return invocation


def _declared_mounts(
    cube_folder: Path,
    spec: CubeSpec,
    points: tuple[MountPoint, ...],
    outputs: tuple[str, ...],
    mounts: Mapping[str, Path],
    unpacked: list[Path],
) -> tuple[list[Mount], tuple[tuple[str, PurePosixPath], ...]]:
    """The mounts a container format declares, at its paths, and the paths it is given."""
    planned: list[Mount] = []
    paths: list[tuple[str, PurePosixPath]] = []
    for point in points:
        folder = point.path or IO_DIR / point.name
        given = folder / point.file_name if point.file_name else folder
        paths.append((point.name, given))
        if point.source is not None:
            host = _cube_source(cube_folder, spec, point, unpacked)
            planned.append(Mount(point.name, host, given, writable=False))
        elif point.name == PARAMETERS_MOUNT:
            host = cube_folder / spec.parameters_path
            planned.append(Mount(point.name, host, given, writable=False))
        elif point.name == ADDITIONAL_FILES_MOUNT:
            host = _additional_files(cube_folder, spec, unpacked)
            planned.append(Mount(point.name, host, folder, writable=False))
        elif point.bind_file and point.file_name:
            # One file of the output folder, bound at exactly the path declared.
            host = Path(mounts[point.name]).resolve() / point.file_name
            planned.append(Mount(point.name, host, given, point.name in outputs, is_file=True))
        else:
            writable = point.name in outputs
            host = Path(mounts[point.name]).resolve()
            planned.append(Mount(point.name, host, folder, writable))
    return planned, tuple(paths)


def _cube_source(
    cube_folder: Path, spec: CubeSpec, point: MountPoint, unpacked: list[Path]
) -> Path:
    """An input the cube brings itself: a file or folder of its additional files or of
    its own folder, checked to be there as declared (never through a link)."""
    assert point.source is not None
    if point.in_additional_files:
        root = _additional_files(cube_folder, spec, unpacked)
    else:
        root = cube_folder
    host = root / point.source
    wanted_file = point.file_name is not None
    inside = not any(
        (root / PurePosixPath(*point.source.parts[: depth + 1])).is_symlink()
        for depth in range(len(point.source.parts))
    )
    if not inside or not (host.is_file() if wanted_file else host.is_dir()):
        where = "additional files" if point.in_additional_files else "files"
        what = "file" if wanted_file else "folder"
        raise InvalidInput(
            f"cube {spec.name!r}: input {point.name!r} needs the {what} {point.source} "
            f"of its {where}, which it does not hold"
        )
    return host


def _additional_files(cube_folder: Path, spec: CubeSpec, unpacked: list[Path]) -> Path:
    """The cube's additional files as a folder: as it is, or its archive unpacked afresh."""
    if spec.additional_files is None:
        raise InvalidInput(f"cube {spec.name!r} declares additional files but has none")
    source = cube_folder / spec.additional_files
    if source.is_dir():
        return source
    if unpacked:  # One archive per cube: a task declaring it twice shares one copy.
        return unpacked[0] / "files"
    folder = make_scratch(None, "medval-additional-files-")  # swept if the client is killed
    unpacked.append(folder)
    try:
        unpack_archive(source.read_bytes(), folder / "files")
    except (InvalidInput, OSError) as exc:
        for made in unpacked:
            shutil.rmtree(made, ignore_errors=True)
        raise InvalidInput(f"cube {spec.name!r}: {spec.additional_files}: {exc}") from exc
    _make_readable(folder)
    return folder / "files"


def _make_readable(root: Path) -> None:
    """Readable by the sandbox user (not only by us), and by nobody writable but us."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            path = os.path.join(directory, name)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o111 else 0o644)


def _create_output(mount: Mount) -> None:
    try:
        mount.folder.mkdir(parents=True, exist_ok=True)
        if mount.is_file:
            if not mount.host_path.is_file() or mount.host_path.is_symlink():
                mount.host_path.unlink(missing_ok=True)
                mount.host_path.touch(0o644)
            return
    except OSError as exc:
        raise SandboxError(
            f"output mount {mount.name!r} cannot be created at {mount.host_path}: {exc.strerror}"
        ) from exc
    if not mount.host_path.is_dir():
        raise SandboxError(f"output mount {mount.name!r} is not a directory: {mount.host_path}")


def _check_names(
    label: str,
    expected: tuple[str, ...],
    mounts: Mapping[str, Path],
    optional: tuple[str, ...] = (),
) -> None:
    """Every expected mount given, and nothing else but the optional ones (which a task
    that does not declare them never sees)."""
    missing = [name for name in expected if name not in mounts]
    unknown = sorted(set(mounts) - set(expected) - set(optional))
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
