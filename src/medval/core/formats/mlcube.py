"""MLCube: a folder with ``mlcube.yaml``; the image's entrypoint gets the task name.

What medval reads of it::

    name: my-model
    docker:
      image: vendor/model:1.0
      env_args: {MODEL: small}         # given to every task (medval's own variables win)
    tasks:
      infer:
        parameters:
          inputs:
            data_path: {type: directory, default: data}
            parameters_file: {type: file, default: parameters.yaml}
            weights: additional_files/weights.h5     # from the cube itself, read-only
          outputs:
            output_path: {type: directory, default: predictions}

A parameter may also be written as just its default path (``data_path: data``); without
a ``type``, a default with a suffix (``results.yaml``) is a file, else a directory.
Defaults of medval's own mounts are host paths for MLCube's own runner and are ignored,
except that a file's name is kept: an output ``{type: file, default: results.yaml}`` is
given as ``--output_path=/mlcube_io/output_path/results.yaml``. Another input's default
is a path into the cube itself (its additional files, or its ``workspace/``), mounted
read-only (see :mod:`.mapping`). Each task runs as ``<image entrypoint> TASK
--NAME=PATH ...`` for its declared parameters only, or, when the task has its own
``entrypoint``, as that command (instead of the image's) with the same ``--NAME=PATH``
arguments and no task name; in the image's ``WORKDIR``.

What medval does not do is said, one line each, at registration and by ``cube show``
(:attr:`CubeSpec.unhonoured`): ``platform`` but ``accelerator_count`` (resources are the
runner's limits; a count above 0 makes the cube one that can use a GPU: :mod:`medval.core.gpus`),
``singularity``, the ``docker`` build and run settings (``build_*``, ``gpu_args``,
``cpu_args``), any other key, and tasks no kind of cube has.
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
from medval.core.formats.common import (
    Notes,
    environment_at,
    mapping_at,
    text_at,
    volume_type_is_file,
    words_at,
)
from medval.core.formats.mapping import (
    PARAMETERS_MOUNT,
    CubeFiles,
    check_parameter,
    cube_source,
    infer_kind,
    is_fixed_mount,
    note_other_tasks,
)
from medval.core.gpus import GpuNeed, asks_for_gpus
from medval.core.states import CubeKind

SPEC_FILE = "mlcube.yaml"
_TOP_KEYS = ("name", "description", "authors", "docker", "tasks", "platform")
_TOP_REASONS = {"singularity": "medval runs the docker image"}
_PLATFORM_REASON = {"": "resources are the runner's limits"}
_BUILT = "images are pinned at registration, never built"
_DOCKER_REASONS = {
    "build_context": _BUILT,
    "build_file": _BUILT,
    "build_strategy": _BUILT,
    "build_args": _BUILT,
    "gpu_args": "medval sets every option of a task's container itself",
    "cpu_args": "medval sets every option of a task's container itself",
}


def load(folder: Path, kind: CubeKind | None) -> CubeSpec:
    where = folder / SPEC_FILE
    raw = read_yaml_mapping(where)
    name = text_at(where, raw.get("name"), "'name'")
    docker = mapping_at(where, raw.get("docker"), "'docker' (with the 'image' to run)")
    image = text_at(where, docker.get("image"), "'docker.image'")
    environment = environment_at(where, docker.get("env_args"), "'docker.env_args'")
    tasks_raw = mapping_at(where, raw.get("tasks"), "'tasks'")
    kind = infer_kind(where, tasks_raw, kind)
    files = CubeFiles(folder)
    notes = Notes()
    notes.unknown("", raw, _TOP_KEYS, _TOP_REASONS)
    platform = mapping_at(where, raw.get("platform"), "'platform'", required=False)
    notes.unknown("platform.", platform, ("accelerator_count",), _platform_reasons(platform))
    notes.unknown("docker.", docker, ("image", "env_args"), _DOCKER_REASONS)
    notes.environment("docker.env_args.", environment)
    note_other_tasks(notes, kind, tasks_raw)
    tasks = {
        task: _task(where, kind, task, tasks_raw[task], files, notes, environment)
        for task in TASKS[kind]
    }
    return CubeSpec(
        name=name,
        kind=kind,
        tasks=tasks,
        has_parameters=files.parameters is not None,
        image=image,
        spec_file=SPEC_FILE,
        parameters_path=files.parameters or PARAMETERS_FILE,
        additional_files=files.additional,
        unhonoured=tuple(notes.lines),
        gpu=GpuNeed.CAN_USE if asks_for_gpus(platform.get("accelerator_count")) else GpuNeed.NONE,
    )


def _platform_reasons(platform: dict[str, Any]) -> dict[str, str]:
    return {key: _PLATFORM_REASON[""] for key in platform}


def _task(
    where: Path,
    kind: CubeKind,
    task: str,
    body: Any,
    files: CubeFiles,
    notes: Notes,
    environment: tuple[tuple[str, str], ...],
) -> TaskSpec:
    body = mapping_at(where, body, f"task {task!r}", required=False)
    notes.unknown(f"tasks.{task}.", body, ("parameters", "entrypoint"))
    parameters = mapping_at(
        where, body.get("parameters"), f"task {task!r} 'parameters'", required=False
    )
    notes.unknown(f"tasks.{task}.parameters.", parameters, ("inputs", "outputs"))
    points: list[MountPoint] = []
    for is_output, section in ((False, "inputs"), (True, "outputs")):
        declared = mapping_at(
            where, parameters.get(section), f"task {task!r} '{section}'", required=False
        )
        for name, value in declared.items():
            prefix = f"tasks.{task}.parameters.{section}.{name}."
            is_file, file_name, default = _parameter(where, task, name, value, notes, prefix)
            if is_output or is_fixed_mount(kind, task, name):
                check_parameter(where, kind, task, name, is_output, is_file, files)
                points.append(MountPoint(name, None, file_name))
                continue
            source, in_additional = cube_source(where, kind, task, name, default, is_file, files)
            points.append(
                MountPoint(name, None, file_name, source=source, in_additional_files=in_additional)
            )
    entrypoint = words_at(where, body.get("entrypoint"), f"task {task!r} 'entrypoint'")
    return TaskSpec(
        name=task,
        entrypoint=entrypoint,
        io=TASKS[kind][task],
        leading_arguments=() if entrypoint else (task,),
        replaces_image_entrypoint=bool(entrypoint),
        mount_points=tuple(points),
        path_arguments=True,
        environment=environment,
        in_image_workdir=True,
    )


def _parameter(
    where: Path, task: str, name: str, value: Any, notes: Notes, prefix: str
) -> tuple[bool, str | None, str | None]:
    """Whether a parameter is a file, the file's name inside its mounted folder, and its
    default path."""
    what = f"task {task!r} parameter {name!r}"
    if isinstance(value, str):
        value = {"default": value}
    value = mapping_at(where, value, f"{what} (a path, or type and default)")
    notes.unknown(
        prefix, value, ("type", "default"), {"opts": "inputs are read-only, outputs writable"}
    )
    default = value.get("default")
    if default is not None and not (isinstance(default, str) and default.strip()):
        raise InvalidInput(f"{where}: {what} 'default' must be a path")
    if "type" in value:
        is_file = volume_type_is_file(where, value["type"], what)
    else:
        is_file = name == PARAMETERS_MOUNT or bool(default and PurePosixPath(default).suffix)
    if not is_file:
        return False, None, default
    if name == PARAMETERS_MOUNT:
        return True, PARAMETERS_FILE, default
    if not default:
        raise InvalidInput(f"{where}: {what} is a file: its 'default' gives the file's name")
    return True, PurePosixPath(default).name, default
