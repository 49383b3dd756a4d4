"""How a container format's task parameters become medval's mounts.

Both formats name a task's inputs and outputs; medval gives each task fixed mounts
(:data:`medval.core.cube_spec.TASKS`). The mapping is by name, the names MedPerf uses:

- one of the task's inputs (``data_path``, ``labels_path``, ``predictions``, ``labels``):
  that input, read-only, a folder;
- one of the task's outputs (``output_path``, ``output_labels_path``): that output,
  writable, a folder (or a file the cube writes in it);
- ``parameters_file`` (an input): the cube's ``parameters.yaml``, read-only, a file;
- ``additional_files`` (an input): the cube's additional files, read-only, a folder;
- anything else: refused, in one line naming the parameter.

The cube's kind comes from its task names (tasks that no kind has are ignored, as
the format's other tools use them); a caller settles names that fit several kinds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from medval.core.cube_spec import PARAMETERS_FILE, TASKS, TaskIO
from medval.core.errors import InvalidInput
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
    fitting = [k for k in CubeKind if set(TASKS[k]) <= declared]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        names = " and ".join(k.value for k in fitting)
        raise InvalidInput(
            f"{where}: its tasks fit a {names} cube; say which kind it is when registering"
        )
    wanted = "; ".join(f"{k.value}: {', '.join(TASKS[k])}" for k in CubeKind)
    found = ", ".join(sorted(declared)) or "none"
    raise InvalidInput(f"{where}: its tasks ({found}) fit no kind of cube ({wanted})")


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
    raise InvalidInput(f"{label} cannot be mapped: {_offer(kind, task, io)}")


def _offer(kind: CubeKind, task: str, io: TaskIO) -> str:
    inputs = ", ".join((*io.inputs, PARAMETERS_MOUNT, ADDITIONAL_FILES_MOUNT))
    outputs = ", ".join(io.outputs) or "none"
    return f"a {kind.value} cube's {task} takes inputs {inputs}; outputs {outputs}"


class CubeFiles:
    """The parameters file and additional files of a container-format cube, if any."""

    def __init__(self, folder: Path) -> None:
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
