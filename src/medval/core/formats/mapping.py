"""How a container format's task parameters become medval's mounts.

Both formats name a task's inputs and outputs; medval gives each task fixed mounts
(:data:`medval.core.cube_spec.TASKS`). The mapping is by name, the names MedPerf uses:

- one of the task's inputs (``data_path``, ``labels_path``, ``predictions``, ``labels``):
  that input, read-only, a folder;
- one of the task's outputs (``output_path``, ``output_labels_path``): that output,
  writable, a folder (or a file the cube writes in it);
- ``parameters_file`` (an input): the cube's ``parameters.yaml``, read-only, a file;
- ``additional_files`` (an input): the cube's additional files, read-only, a folder;
- a preparation cube's ``metadata_path`` (a folder ``prepare`` writes and
  ``sanity_check`` and ``statistics`` read) and ``report_file`` (a file ``prepare``
  writes): kept with the prepared dataset on the data owner's machine, never hashed
  into it, never sent;
- another input of an MLCube whose ``default`` is a path into the cube's own files
  (``weights: additional_files/w.h5``, ``config: config.yaml``): that file or folder,
  read-only, from the cube's additional files or its ``workspace/``, where MLCube looks
  for a relative default (:func:`cube_source`); it must be there when registered;
- anything else (another output; an input with no source in the cube, which MedPerf
  never gives one): refused, in one line naming the parameter.

The cube's kind comes from its task names; tasks that no kind has are not run, and said
so (:func:`note_other_tasks`); a caller settles names that fit several kinds.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from medval.core.cube_spec import PARAMETERS_FILE, REPORT_MOUNT, TASKS, TaskIO
from medval.core.errors import InvalidInput
from medval.core.formats.common import Notes
from medval.core.states import CubeKind

PARAMETERS_MOUNT = "parameters_file"
ADDITIONAL_FILES_MOUNT = "additional_files"
ADDITIONAL_FILES_ARCHIVE = "additional_files.tar.gz"
# Both formats keep their parameters and additional files in workspace/ by convention.
WORKSPACE = "workspace"


def infer_kind(where: Path, task_names: Iterable[str], kind: CubeKind | None) -> CubeKind:
    """The one kind whose tasks are all declared, or ``kind`` when given."""
    declared = set(task_names)
    if kind is not None:
        missing = [task for task in TASKS[kind] if task not in declared]
        if missing:
            raise InvalidInput(f"{where}: a {kind.value} cube needs task {', '.join(missing)}")
        return kind
    fitting = [k for k in TASKS if set(TASKS[k]) <= declared]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        names = " and ".join(k.value for k in fitting)
        raise InvalidInput(
            f"{where}: its tasks fit a {names} cube; say which kind it is when registering"
        )
    wanted = "; ".join(f"{k.value}: {', '.join(TASKS[k])}" for k in TASKS)
    found = ", ".join(sorted(declared)) or "none"
    raise InvalidInput(f"{where}: its tasks ({found}) fit no kind of cube ({wanted})")


def note_other_tasks(notes: Notes, kind: CubeKind, declared: Iterable[str]) -> None:
    """A note for each declared task that a cube of ``kind`` does not have."""
    runs = ", ".join(TASKS[kind])
    for task in declared:
        if task not in TASKS[kind]:
            notes.add(f"tasks.{task}", f"{kind.value} cubes run only {runs}")


def is_fixed_mount(kind: CubeKind, task: str, name: str) -> bool:
    """Whether ``name`` is one of medval's mounts for the task (or its cube files)."""
    io = TASKS[kind][task]
    return name in (*io.inputs, *io.outputs, PARAMETERS_MOUNT, ADDITIONAL_FILES_MOUNT)


def cube_source(
    where: Path,
    kind: CubeKind,
    task: str,
    name: str,
    default: str | None,
    is_file: bool,
    files: CubeFiles,
) -> tuple[PurePosixPath, bool]:
    """Where an MLCube input beyond medval's mounts comes from in the cube itself.

    Returns the path and whether it is inside the additional files (else it is relative
    to the cube folder). Refuses, naming the parameter, one with no such source.
    """
    offer = _offer(kind, task, TASKS[kind][task])
    label = f"{where}: task {task!r} input {name!r} cannot be mapped: {offer}"
    what = "file" if is_file else "folder"
    path = PurePosixPath(default or "")
    if not default or path.is_absolute() or ".." in path.parts or not path.parts:
        raise InvalidInput(f"{label}; nor is its default a path into the cube's {WORKSPACE}/")
    if path.parts[0] == ADDITIONAL_FILES_MOUNT and len(path.parts) > 1:
        if files.additional is None:
            raise InvalidInput(
                f"{label}; its default {default} is in the cube's additional files, and it "
                f"has none ({ADDITIONAL_FILES_ARCHIVE} or {ADDITIONAL_FILES_MOUNT}/)"
            )
        return PurePosixPath(*path.parts[1:]), True
    relative = PurePosixPath(WORKSPACE) / path
    found = files.folder / relative
    if found.is_symlink() or not (found.is_file() if is_file else found.is_dir()):
        raise InvalidInput(
            f"{label}; nor is its default {default} a {what} of the cube's {WORKSPACE}/ "
            f"or {ADDITIONAL_FILES_MOUNT}/"
        )
    return relative, False


def check_parameter(
    where: Path,
    kind: CubeKind,
    task: str,
    name: str,
    is_output: bool,
    is_file: bool,
    files: CubeFiles,
) -> None:
    """Refuse, in one line naming it, a declared parameter medval cannot provide."""
    io = TASKS[kind][task]
    direction = "output" if is_output else "input"
    label = f"{where}: task {task!r} {direction} {name!r}"
    if name in (PARAMETERS_MOUNT, ADDITIONAL_FILES_MOUNT) and not is_output:
        present = files.parameters if name == PARAMETERS_MOUNT else files.additional
        if present is None:
            what = PARAMETERS_FILE if name == PARAMETERS_MOUNT else ADDITIONAL_FILES_ARCHIVE
            raise InvalidInput(f"{label} needs a {what} in the cube folder or its {WORKSPACE}/")
        if (name == PARAMETERS_MOUNT) != is_file:
            raise InvalidInput(
                f"{label} must be a {'file' if name == PARAMETERS_MOUNT else 'directory'}"
            )
        return
    if name in (io.outputs if is_output else io.inputs):
        if is_file and not is_output:
            raise InvalidInput(f"{label} must be a directory: medval's inputs are folders")
        return
    if name in (io.optional_outputs if is_output else io.optional_inputs):
        wanted_file = name == REPORT_MOUNT
        if is_file != wanted_file:
            raise InvalidInput(f"{label} must be a {'file' if wanted_file else 'directory'}")
        return
    raise InvalidInput(f"{label} cannot be mapped: {_offer(kind, task, io)}")


def _offer(kind: CubeKind, task: str, io: TaskIO) -> str:
    inputs = ", ".join((*io.inputs, *io.optional_inputs, PARAMETERS_MOUNT, ADDITIONAL_FILES_MOUNT))
    outputs = ", ".join((*io.outputs, *io.optional_outputs)) or "none"
    return f"a {kind.value} cube's {task} takes inputs {inputs}; outputs {outputs}"


class CubeFiles:
    """The parameters file and additional files of a container-format cube, if any."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parameters = _first_present(
            folder, [PARAMETERS_FILE, f"{WORKSPACE}/{PARAMETERS_FILE}"], want_dir=False
        )
        archive = _first_present(
            folder,
            [ADDITIONAL_FILES_ARCHIVE, f"{WORKSPACE}/{ADDITIONAL_FILES_ARCHIVE}"],
            want_dir=False,
        )
        unpacked = _first_present(
            folder,
            [ADDITIONAL_FILES_MOUNT, f"{WORKSPACE}/{ADDITIONAL_FILES_MOUNT}"],
            want_dir=True,
        )
        if archive is not None and unpacked is not None:
            raise InvalidInput(f"{folder} has {archive} and {unpacked}: keep only one of them")
        self.additional = archive or unpacked


def _first_present(folder: Path, candidates: list[str], want_dir: bool) -> str | None:
    for relative in candidates:
        path = folder / relative
        if path.is_dir() if want_dir else path.is_file():
            return relative
    return None


def check_additional_source(
    folder: Path, additional: str, source: PurePosixPath, is_file: bool, what: str
) -> None:
    """Refuse, in one line, a path that the cube's additional files do not hold.

    Reads the whole archive (``additional_files.tar.gz``), so it is checked once, when the
    cube is registered; a run checks the unpacked folder again.
    """
    kind = "file" if is_file else "folder"
    location = folder / additional
    if location.is_dir():
        found = location / source
        if found.is_symlink() or not (found.is_file() if is_file else found.is_dir()):
            raise InvalidInput(f"{what}: {additional} holds no {kind} {source}")
        return
    wanted = source.as_posix()
    try:
        with tarfile.open(location, mode="r:*") as tar:
            for member in tar:
                name = PurePosixPath(member.name).as_posix().removeprefix("./")
                if is_file and member.isfile() and name == wanted:
                    return
                if not is_file and (
                    (member.isdir() and name == wanted) or name.startswith(wanted + "/")
                ):
                    return
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(f"{what}: {additional} is not a valid archive: {exc}") from exc
    raise InvalidInput(f"{what}: {additional} holds no {kind} {source}")
