"""MedPerf: a folder with ``container_config.yaml``; each task says where its volumes go.

What medval reads of it::

    container_type: DockerImage        # or DockerArchive; absent: DockerImage
    image: vendor/model:1.0            # DockerArchive: the archive (a path, or a URL)
    tasks:
      infer:
        run_args:                      # optional: both words are shell-split
          entrypoint: python3          #   replaces the image's entrypoint
          command: /app/infer.py       #   the words after the image
          environment: {MODEL: small}  #   given to the task (medval's own variables win)
        input_volumes:
          data_path: {mount_path: /volumes/data, type: directory}
          parameters_file: {mount_path: /volumes/parameters.yaml, type: file}
        output_volumes:
          output_path: {mount_path: /volumes/predictions, type: directory}

Each declared volume is mounted at its ``mount_path`` (any path every runner can mount:
:mod:`.mount_paths`) and nothing is passed on the command line: the task runs as the
image's entrypoint (or ``run_args.entrypoint``) followed by ``run_args.command``, in the
image's ``WORKDIR``. An output of ``type: file`` is a file the cube writes: medval
mounts that one file of the output folder at its ``mount_path``, as MedPerf does
(``/medperf_statistics.yaml`` included), so the cube may write it but not replace it.

``container_type: DockerArchive`` names the image's archive (``docker save``) in
``image``: a path relative to the config's folder, or the URL MedPerf downloads it from
(medval downloads nothing: register it with ``--image-archive``). The archive is
registered as the cube's pinned image, by the ID read from it.

What medval does not do is said, one line each, at registration and by ``cube show``
(:attr:`CubeSpec.unhonoured`): ``shm_size``,
``user``, ``network``, ``ports``, any other key, and tasks no kind of cube has. The runner
decides devices, user, network and limits. A task's ``run_args.gpus`` asking for any
device (``all``, ``1``, ``device=0``) makes the cube one that can use a GPU
(:mod:`medval.core.gpus`): the run's ``--gpus`` says which devices it gets. ``parameters.yaml`` and
``additional_files.tar.gz`` sit beside the config or in ``workspace/``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.cube_spec import TASKS, CubeSpec, MountPoint, TaskSpec, read_yaml_mapping
from medval.core.errors import InvalidInput
from medval.core.formats.common import (
    Notes,
    environment_at,
    mapping_at,
    text_at,
    volume_type_is_file,
    words_at,
)
from medval.core.formats.mapping import CubeFiles, check_parameter, infer_kind, note_other_tasks
from medval.core.formats.mount_paths import check_not_nested, mount_path_at
from medval.core.gpus import GpuNeed, asks_for_gpus
from medval.core.states import CubeKind

SPEC_FILE = "container_config.yaml"
DOCKER_IMAGE = "DockerImage"
DOCKER_ARCHIVE = "DockerArchive"
_TOP_KEYS = ("container_type", "image", "tasks", "name")
_TASK_KEYS = ("run_args", "input_volumes", "output_volumes")
_RUN_ARGS = ("entrypoint", "command", "environment", "gpus")
_NOT_HONOURED = {
    "shm_size": "/dev/shm is the runner's, within the task's memory limit",
    "user": "a task runs as the runner's unprivileged user",
    "network": "a task has no network",
    "ports": "a task has no network",
}


def load(folder: Path, kind: CubeKind | None) -> CubeSpec:
    where = folder / SPEC_FILE
    raw = read_yaml_mapping(where)
    container_type = raw.get("container_type", DOCKER_IMAGE)
    if container_type not in (DOCKER_IMAGE, DOCKER_ARCHIVE):
        raise InvalidInput(
            f"{where}: container_type {container_type!r} is not supported; "
            f"medval runs {DOCKER_IMAGE} and {DOCKER_ARCHIVE}"
        )
    image = text_at(where, raw.get("image"), "'image'")
    tasks_raw = mapping_at(where, raw.get("tasks"), "'tasks'")
    kind = infer_kind(where, tasks_raw, kind)
    files = CubeFiles(folder)
    notes = Notes()
    notes.unknown("", raw, _TOP_KEYS)
    note_other_tasks(notes, kind, tasks_raw)
    tasks = {task: _task(where, kind, task, tasks_raw[task], files, notes) for task in TASKS[kind]}
    name = raw.get("name")
    return CubeSpec(
        name=name.strip() if isinstance(name, str) and name.strip() else folder.resolve().name,
        kind=kind,
        tasks=tasks,
        has_parameters=files.parameters is not None,
        image=image,
        spec_file=SPEC_FILE,
        parameters_path=files.parameters or "parameters.yaml",
        additional_files=files.additional,
        image_is_archive=container_type == DOCKER_ARCHIVE,
        unhonoured=tuple(notes.lines),
        gpu=_gpu_need(where, tasks_raw, kind),
    )


def _gpu_need(where: Path, tasks_raw: dict[str, Any], kind: CubeKind) -> GpuNeed:
    """``can_use`` when any task's ``run_args.gpus`` asks for a device (see core.gpus)."""
    for task in TASKS[kind]:
        body = mapping_at(where, tasks_raw[task], f"task {task!r}", required=False)
        run_args = mapping_at(where, body.get("run_args"), f"task {task!r} 'run_args'", False)
        if asks_for_gpus(run_args.get("gpus")):
            return GpuNeed.CAN_USE
    return GpuNeed.NONE


def _task(
    where: Path, kind: CubeKind, task: str, body: Any, files: CubeFiles, notes: Notes
) -> TaskSpec:
    body = mapping_at(where, body, f"task {task!r}", required=False)
    notes.unknown(f"tasks.{task}.", body, _TASK_KEYS)
    points: list[MountPoint] = []
    declared: dict[str, PurePosixPath] = {}
    for is_output, section in ((False, "input_volumes"), (True, "output_volumes")):
        volumes = mapping_at(where, body.get(section), f"task {task!r} '{section}'", False)
        for name, volume in volumes.items():
            what = f"task {task!r} volume {name!r}"
            volume = mapping_at(where, volume, f"{what} (with mount_path and type)")
            is_file = volume_type_is_file(where, volume.get("type"), what)
            path = mount_path_at(where, volume.get("mount_path"), what)
            if name in declared:
                raise InvalidInput(f"{where}: {what} is both an input and an output")
            declared[name] = path
            notes.unknown(f"tasks.{task}.{section}.{name}.", volume, ("mount_path", "type"))
            check_parameter(where, kind, task, name, is_output, is_file, files)
            if is_file:
                points.append(MountPoint(name, path.parent, path.name, bind_file=True))
            else:
                points.append(MountPoint(name, path))
    check_not_nested(where, task, declared)
    run_args = mapping_at(where, body.get("run_args"), f"task {task!r} 'run_args'", False)
    notes.unknown(f"tasks.{task}.run_args.", run_args, _RUN_ARGS, _NOT_HONOURED)
    entrypoint = words_at(where, run_args.get("entrypoint"), f"task {task!r} entrypoint")
    command = words_at(where, run_args.get("command"), f"task {task!r} command")
    environment = environment_at(
        where, run_args.get("environment"), f"task {task!r} run_args.environment"
    )
    notes.environment(f"tasks.{task}.run_args.environment.", environment)
    return TaskSpec(
        name=task,
        entrypoint=entrypoint + command,
        io=TASKS[kind][task],
        replaces_image_entrypoint=bool(entrypoint),
        mount_points=tuple(points),
        path_arguments=False,
        environment=environment,
        in_image_workdir=True,
    )
