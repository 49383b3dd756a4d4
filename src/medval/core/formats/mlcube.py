"""MLCube: a folder with ``mlcube.yaml``; the image's entrypoint gets the task name.

What medval reads of it::

    name: my-model
    docker: {image: vendor/model:1.0}
    tasks:
      infer:
        parameters:
          inputs:
            data_path: {type: directory, default: data}
            parameters_file: {type: file, default: parameters.yaml}
          outputs:
            output_path: {type: directory, default: predictions}

A parameter may also be written as just its default path (``data_path: data``); without
a ``type``, a default with a suffix (``results.yaml``) is a file, else a directory.
Defaults are host paths for MLCube's own runner and are ignored, except that a file's
name is kept: an output ``{type: file, default: results.yaml}`` is given as
``--output_path=/mlcube_io/output_path/results.yaml``. Each task runs as
``<image entrypoint> TASK --NAME=PATH ...`` for its declared parameters only, or, when
the task has its own ``entrypoint``, as that command (instead of the image's) with the
same ``--NAME=PATH`` arguments and no task name. Other sections (``platform``,
``singularity``, ``docker`` build settings) are ignored.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.cube_spec import (
    PARAMETERS_FILE,
    TASKS,
    CubeSpec,
    MountPoint,
    TaskSpec,
    read_yaml_mapping,
)
from medval.core.errors import InvalidInput
from medval.core.formats.common import mapping_at, text_at, volume_type_is_file, words_at
from medval.core.formats.mapping import (
    PARAMETERS_MOUNT,
    CubeFiles,
    check_parameter,
    infer_kind,
)
from medval.core.states import CubeKind

SPEC_FILE = "mlcube.yaml"


def load(folder: Path, kind: CubeKind | None) -> CubeSpec:
    where = folder / SPEC_FILE
    raw = read_yaml_mapping(where)
    name = text_at(where, raw.get("name"), "'name'")
    docker = mapping_at(where, raw.get("docker"), "'docker' (with the 'image' to run)")
    image = text_at(where, docker.get("image"), "'docker.image'")
    tasks_raw = mapping_at(where, raw.get("tasks"), "'tasks'")
    kind = infer_kind(where, tasks_raw, kind)
    files = CubeFiles(folder)
    tasks = {task: _task(where, kind, task, tasks_raw[task], files) for task in TASKS[kind]}
    return CubeSpec(
        name=name,
        kind=kind,
        tasks=tasks,
        has_parameters=files.parameters is not None,
        image=image,
        spec_file=SPEC_FILE,
        parameters_path=files.parameters or PARAMETERS_FILE,
        additional_files=files.additional,
    )


def _task(where: Path, kind: CubeKind, task: str, body: Any, files: CubeFiles) -> TaskSpec:
    body = mapping_at(where, body, f"task {task!r}", required=False)
    parameters = mapping_at(
        where, body.get("parameters"), f"task {task!r} 'parameters'", required=False
    )
    points: list[MountPoint] = []
    for is_output, section in ((False, "inputs"), (True, "outputs")):
        declared = mapping_at(
            where, parameters.get(section), f"task {task!r} '{section}'", required=False
        )
        for name, value in declared.items():
            is_file, file_name = _parameter(where, task, name, value)
            check_parameter(where, kind, task, name, is_output, is_file, files)
            points.append(MountPoint(name, None, file_name))
    entrypoint = words_at(where, body.get("entrypoint"), f"task {task!r} 'entrypoint'")
    return TaskSpec(
        name=task,
        entrypoint=entrypoint,
        io=TASKS[kind][task],
        leading_arguments=() if entrypoint else (task,),
        replaces_image_entrypoint=bool(entrypoint),
        mount_points=tuple(points),
        path_arguments=True,
    )


def _parameter(where: Path, task: str, name: str, value: Any) -> tuple[bool, str | None]:
    """Whether a parameter is a file, and the file's name inside its mounted folder."""
    what = f"task {task!r} parameter {name!r}"
    if isinstance(value, str):
        value = {"default": value}
    value = mapping_at(where, value, f"{what} (a path, or type and default)")
    default = value.get("default")
    if default is not None and not (isinstance(default, str) and default.strip()):
        raise InvalidInput(f"{where}: {what} 'default' must be a path")
    if "type" in value:
        is_file = volume_type_is_file(where, value["type"], what)
    else:
        is_file = name == PARAMETERS_MOUNT or bool(default and PurePosixPath(default).suffix)
    if not is_file:
        return False, None
    if name == PARAMETERS_MOUNT:
        return True, PARAMETERS_FILE
    if not default:
        raise InvalidInput(f"{where}: {what} is a file: its 'default' gives the file's name")
    return True, PurePosixPath(default).name
