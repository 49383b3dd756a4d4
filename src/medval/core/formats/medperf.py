"""MedPerf: a folder with ``container_config.yaml``; each task says where its volumes go.

What medval reads of it::

    container_type: DockerImage        # the only type medval runs (absent: the same)
    image: vendor/model:1.0
    tasks:
      infer:
        run_args:                      # optional: both words are shell-split
          entrypoint: python3          #   replaces the image's entrypoint
          command: /app/infer.py       #   the words after the image
        input_volumes:
          data_path: {mount_path: /volumes/data, type: directory}
          parameters_file: {mount_path: /volumes/parameters.yaml, type: file}
        output_volumes:
          output_path: {mount_path: /volumes/predictions, type: directory}

Each declared volume is mounted at its ``mount_path`` and nothing is passed on the
command line: the task runs as the image's entrypoint (or ``run_args.entrypoint``)
followed by ``run_args.command``. An output of ``type: file`` is a file the cube writes:
medval mounts that one file of the output folder at its ``mount_path``, as MedPerf does
(``/medperf_statistics.yaml`` included), so the cube may write it but not replace it.
Other ``run_args`` (``gpus``, ``shm_size``, ``user``, ``network``, ``ports``,
``environment``) are ignored: the runner decides devices, user, network, limits and
environment. ``parameters.yaml`` and ``additional_files.tar.gz`` sit beside the config or
in ``workspace/``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.cube_spec import TASKS, CubeSpec, MountPoint, TaskSpec, read_yaml_mapping
from medval.core.errors import InvalidInput
from medval.core.formats.common import mapping_at, text_at, volume_type_is_file, words_at
from medval.core.formats.mapping import CubeFiles, check_parameter, infer_kind
from medval.core.states import CubeKind

SPEC_FILE = "container_config.yaml"
CONTAINER_TYPE = "DockerImage"
# Where a volume would hide what the container itself needs.
_RESERVED = tuple(PurePosixPath(p) for p in ("/proc", "/dev", "/sys"))


def load(folder: Path, kind: CubeKind | None) -> CubeSpec:
    where = folder / SPEC_FILE
    raw = read_yaml_mapping(where)
    container_type = raw.get("container_type", CONTAINER_TYPE)
    if container_type != CONTAINER_TYPE:
        raise InvalidInput(
            f"{where}: container_type {container_type!r} is not supported; "
            f"medval runs {CONTAINER_TYPE} (an image archive is registered with its image)"
        )
    image = text_at(where, raw.get("image"), "'image'")
    tasks_raw = mapping_at(where, raw.get("tasks"), "'tasks'")
    kind = infer_kind(where, tasks_raw, kind)
    files = CubeFiles(folder)
    tasks = {task: _task(where, kind, task, tasks_raw[task], files) for task in TASKS[kind]}
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
    )


def _task(where: Path, kind: CubeKind, task: str, body: Any, files: CubeFiles) -> TaskSpec:
    body = mapping_at(where, body, f"task {task!r}", required=False)
    points: list[MountPoint] = []
    seen: dict[PurePosixPath, str] = {}
    for is_output, section in ((False, "input_volumes"), (True, "output_volumes")):
        volumes = mapping_at(where, body.get(section), f"task {task!r} '{section}'", False)
        for name, volume in volumes.items():
            what = f"task {task!r} volume {name!r}"
            volume = mapping_at(where, volume, f"{what} (with mount_path and type)")
            is_file = volume_type_is_file(where, volume.get("type"), what)
            path = _mount_path(where, volume.get("mount_path"), what)
            if path in seen:
                raise InvalidInput(f"{where}: {what} and {seen[path]!r} share {path}")
            seen[path] = name
            check_parameter(where, kind, task, name, is_output, is_file, files)
            if is_file:
                points.append(MountPoint(name, path.parent, path.name, bind_file=True))
            else:
                points.append(MountPoint(name, path))
    run_args = mapping_at(where, body.get("run_args"), f"task {task!r} 'run_args'", False)
    entrypoint = words_at(where, run_args.get("entrypoint"), f"task {task!r} entrypoint")
    command = words_at(where, run_args.get("command"), f"task {task!r} command")
    return TaskSpec(
        name=task,
        entrypoint=entrypoint + command,
        io=TASKS[kind][task],
        replaces_image_entrypoint=bool(entrypoint),
        mount_points=tuple(points),
        path_arguments=False,
    )


def _mount_path(where: Path, raw: Any, what: str) -> PurePosixPath:
    text = text_at(where, raw, f"{what} 'mount_path'")
    path = PurePosixPath(text)
    if not path.is_absolute() or ".." in path.parts or path == PurePosixPath("/"):
        raise InvalidInput(f"{where}: {what} 'mount_path' must be an absolute path below /")
    if any(path == r or path.is_relative_to(r) for r in _RESERVED):
        raise InvalidInput(f"{where}: {what} cannot be mounted at {path}")
    return path
