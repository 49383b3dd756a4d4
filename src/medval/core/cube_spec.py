"""The cube interface: what a cube declares, and the mounts each task receives.

A cube is a folder with a ``medval-cube.yaml``::

    name: breast-recurrence-prep
    kind: data_preparator          # data_preparator | model | evaluator
    tasks:
      prepare:      {entrypoint: [python, prepare.py]}
      sanity_check: {entrypoint: [python, sanity_check.py]}
      statistics:   {entrypoint: [python, statistics.py]}

Which tasks a kind has and which mounts each task gets are fixed here, not by the cube:
a task is called as ``ENTRYPOINT --NAME=PATH ...`` with one argument per mount, every
mount is a directory, inputs are read-only and outputs are the only writable places.
A ``parameters.yaml`` beside the spec is passed as ``--parameters_file``.

A native cube may say whether it uses a GPU (:mod:`medval.core.gpus`)::

    gpu: needs                        # needs | can_use | none (the default)

Two optional keys say what else a native cube brings::

    additional_files: weights/        # a folder or a .tar.gz inside the cube folder
    environment:
      python:
        requirements: requirements.lock
        wheels: wheels/

``additional_files`` is MLCube's notion, read the same way (:attr:`CubeSpec.additional_files`):
mounted read-only at ``/mlcube_io/additional_files`` (an archive unpacked for each run)
and passed as ``--additional_files=...``. ``environment.python`` gives the cube a Python
environment built at the site from the wheels it ships instead of the runner's own
Python (:mod:`medval.core.python_environment`); a cube has it or an ``image``, not both.

A native data-preparation cube may declare a ``workflow`` of steps, each a task, run per
case or once (:mod:`medval.core.preparation_workflow`); it may then declare tasks of its own
beside the three, each named by a step.

A folder with an MLCube ``mlcube.yaml`` or a MedPerf ``container_config.yaml`` instead is
read as it is (see :mod:`medval.core.formats`): its tasks then say where each mount
appears in the container and how the image is invoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from medval.core.errors import InvalidInput
from medval.core.gpus import GpuNeed, gpu_need_at
from medval.core.nesting import NestedTooDeep, load_yaml
from medval.core.preparation_workflow import Workflow, parse_workflow
from medval.core.python_environment import PythonEnvironment, inside_cube, parse_environment
from medval.core.states import CubeKind
from medval.core.syntax_errors import yaml_problem

SPEC_FILE = "medval-cube.yaml"
PARAMETERS_FILE = "parameters.yaml"


@dataclass(frozen=True)
class TaskIO:
    """Names of a task's input and output mounts.

    The optional ones are given only to a container-format task that declares them
    (MedPerf's preparation ``metadata_path`` folder and ``report_file``): they stay on
    the data owner's machine, are never hashed into the dataset and never sent.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    optional_inputs: tuple[str, ...] = ()
    optional_outputs: tuple[str, ...] = ()


METADATA_MOUNT = "metadata_path"
REPORT_MOUNT = "report_file"

TASKS: dict[CubeKind, dict[str, TaskIO]] = {
    CubeKind.DATA_PREPARATOR: {
        "prepare": TaskIO(
            ("data_path", "labels_path"),
            ("output_path", "output_labels_path"),
            optional_outputs=(METADATA_MOUNT, REPORT_MOUNT),
        ),
        "sanity_check": TaskIO(("data_path", "labels_path"), (), optional_inputs=(METADATA_MOUNT,)),
        "statistics": TaskIO(
            ("data_path", "labels_path"), ("output_path",), optional_inputs=(METADATA_MOUNT,)
        ),
    },
    CubeKind.MODEL: {
        "infer": TaskIO(("data_path",), ("output_path",)),
    },
    CubeKind.EVALUATOR: {
        "evaluate": TaskIO(("predictions", "labels"), ("output_path",)),
    },
}

# The mounts of a task only a workflow step names (:mod:`medval.core.preparation_workflow`).
STEP_TASK_IO = TaskIO(("data_path", "labels_path"), ("output_path",))

# Files that tasks write into their output folder, read back by the client.
STATISTICS_FILE = "statistics.json"
PREDICTIONS_FILE = "predictions.csv"
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class MountPoint:
    """Where a cube's format says one mount appears in the container.

    ``name`` is one of the task's mounts, or ``parameters_file`` (the cube's parameters
    file) or ``additional_files`` (the cube's additional files, a folder). ``path`` is a
    folder in the container; None means medval's own place, ``/mlcube_io/<name>``. A
    ``file_name`` makes the mount a file: the path the cube is given is ``path/file_name``.
    An output folder is then mounted at ``path`` and the cube writes that file in it
    (MLCube), or, with ``bind_file``, only that file of the output folder is mounted at
    ``path/file_name``, wherever that is (MedPerf, which binds the file itself).
    """

    name: str
    path: PurePosixPath | None = None
    file_name: str | None = None
    bind_file: bool = False
    # An input the cube brings itself (MLCube's ``weights: additional_files/w.h5``): its
    # path relative to the cube's additional files (``in_additional_files``) or to the
    # cube folder; mounted read-only from there, never from the data owner's folders.
    source: PurePosixPath | None = None
    in_additional_files: bool = False


@dataclass(frozen=True)
class TaskSpec:
    """One task: what runs and which mounts it gets.

    A cube in medval's own format: ``entrypoint`` is the command (in a cube's own image
    too, where it replaces the image's entrypoint), every mount of ``io`` appears at
    ``/mlcube_io/<name>`` and is passed as ``--NAME=PATH``. A container format may instead
    leave ``entrypoint`` empty (the image's own entrypoint runs), put fixed words first
    (``leading_arguments``: MLCube's task name), replace the image's entrypoint with
    ``entrypoint[0]``, show only the ``mount_points`` it declares, at its own paths, and
    pass no path arguments at all.

    ``environment`` holds the variables the cube declares for the task (MedPerf's
    ``run_args.environment``, MLCube's ``docker.env_args``): part of the pinned cube, they
    are given to the task under medval's own (see :mod:`medval.runner.environment`).
    ``in_image_workdir``: in its own image, the task starts in the image's ``WORKDIR``
    (else ``/``), as ``docker run`` does (the container formats); otherwise in ``/cube``.
    """

    name: str
    entrypoint: tuple[str, ...]
    io: TaskIO
    leading_arguments: tuple[str, ...] = ()
    replaces_image_entrypoint: bool = False
    mount_points: tuple[MountPoint, ...] | None = None
    path_arguments: bool = True
    environment: tuple[tuple[str, str], ...] = ()
    in_image_workdir: bool = False


@dataclass(frozen=True)
class CubeSpec:
    """A cube's declaration. ``image`` is the container image as its author names it
    (a tag or a digest); registration pins it by content digest, and only the pinned
    digest is ever run. Without an image, a cube runs on the runner's own Python.

    ``spec_file`` names the file the spec was read from; ``parameters_path`` and
    ``additional_files`` are paths inside the cube folder (the latter a folder or a
    ``.tar.gz`` archive, unpacked for each run).

    ``image_is_archive``: ``image`` names the image's archive (MedPerf's
    ``container_type: DockerArchive``: a path beside the spec, or a URL), not a tag; the
    archive is registered as the pinned image. ``unhonoured`` names, one line each, what
    the spec declares that medval does not do (``gpus``, ``shm_size``, unknown keys ...):
    said at registration and by ``cube show``, never silently dropped.

    ``python_environment``: a native cube's own Python environment, built at the site
    from the wheels it ships (None: it runs on the runner's Python, or in its image).

    ``gpu``: whether the cube needs, can use or uses no GPU (:mod:`medval.core.gpus`);
    a task of a cube that uses none is given no device whatever the run asks for.

    ``workflow``: a native preparation cube's declared steps (None: ``prepare`` runs once
    on the whole data, as a cube in any format does without one)."""

    name: str
    kind: CubeKind
    tasks: dict[str, TaskSpec]
    has_parameters: bool
    image: str | None = None
    spec_file: str = SPEC_FILE
    parameters_path: str = PARAMETERS_FILE
    additional_files: str | None = None
    image_is_archive: bool = False
    unhonoured: tuple[str, ...] = ()
    python_environment: PythonEnvironment | None = None
    gpu: GpuNeed = GpuNeed.NONE
    workflow: Workflow | None = None

    def task(self, name: str) -> TaskSpec:
        if name not in self.tasks:
            raise InvalidInput(f"cube {self.name!r} ({self.kind.value}) has no task {name!r}")
        return self.tasks[name]


def load_cube_spec(folder: Path, kind: CubeKind | None = None) -> CubeSpec:
    """Read and validate a cube folder's spec; every problem is one clear line.

    The folder holds exactly one of ``medval-cube.yaml``, MLCube's ``mlcube.yaml`` or
    MedPerf's ``container_config.yaml``. ``kind`` settles a container format whose task
    names fit several kinds (a medval spec states its kind itself).
    """
    # Imported here: the formats build this module's classes.
    from medval.core.formats import load_format_spec, spec_files_in

    if kind is not None and kind not in TASKS:
        raise InvalidInput(_not_a_task_cube(folder, kind))

    found = spec_files_in(folder)
    if not found:
        raise InvalidInput(
            f"{folder} is not a cube: it has none of {SPEC_FILE}, mlcube.yaml, "
            "container_config.yaml"
        )
    if len(found) > 1:
        raise InvalidInput(f"{folder} has {' and '.join(found)}: keep only one cube spec")
    if found[0] != SPEC_FILE:
        return load_format_spec(folder, found[0], kind)
    spec_path = folder / SPEC_FILE
    raw = read_yaml_mapping(spec_path)
    return _parse_spec(raw, spec_path, folder)


def _not_a_task_cube(where: Path, kind: CubeKind) -> str:
    return (
        f"{where}: a {kind.value} cube has no medval-cube.yaml: it is a Flower app folder "
        "(a pyproject.toml with [tool.flwr.app])"
    )


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping; anything else is one clear line."""
    try:
        raw = load_yaml(path.read_text())
    except NestedTooDeep as exc:
        raise InvalidInput(f"{path}: not valid YAML ({exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        what = yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else "not UTF-8 text"
        raise InvalidInput(f"{path}: not valid YAML: {what}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path}: expected a mapping at the top level")
    return raw


def _parse_spec(raw: dict[str, Any], where: Path, folder: Path) -> CubeSpec:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{where}: 'name' must be a non-empty string")
    try:
        kind = CubeKind(str(raw.get("kind")))
    except ValueError:
        choices = ", ".join(k.value for k in TASKS)
        raise InvalidInput(f"{where}: 'kind' must be one of {choices}") from None
    if kind not in TASKS:
        raise InvalidInput(_not_a_task_cube(where, kind))
    tasks_raw = raw.get("tasks")
    if not isinstance(tasks_raw, dict):
        raise InvalidInput(f"{where}: 'tasks' must be a mapping of task name to entrypoint")
    expected = dict(TASKS[kind])
    workflow = None
    if "workflow" in raw:
        if kind is not CubeKind.DATA_PREPARATOR:
            raise InvalidInput(f"{where}: only a data_preparator cube declares a 'workflow'")
        workflow = parse_workflow(where, raw["workflow"], set(tasks_raw))
        expected |= {task: STEP_TASK_IO for task in workflow.tasks - set(expected)}
    missing = sorted(set(expected) - set(tasks_raw))
    unknown = sorted(set(tasks_raw) - set(expected))
    if missing or unknown:
        raise InvalidInput(
            f"{where}: a {kind.value} cube has tasks {', '.join(expected)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    tasks: dict[str, TaskSpec] = {}
    for task_name, body in tasks_raw.items():
        entry = body.get("entrypoint") if isinstance(body, dict) else None
        if not (isinstance(entry, list) and entry and all(isinstance(p, str) for p in entry)):
            raise InvalidInput(f"{where}: task {task_name!r} needs 'entrypoint', a list of strings")
        # A native entrypoint is the command to run, in the cube's own image too.
        tasks[task_name] = TaskSpec(
            task_name, tuple(entry), expected[task_name], replaces_image_entrypoint=True
        )
    image = raw.get("image")
    if image is not None and (not isinstance(image, str) or not image.strip()):
        raise InvalidInput(f"{where}: 'image' must be a container image name or digest")
    environment = parse_environment(where, folder, raw.get("environment"))
    if environment is not None and image is not None:
        raise InvalidInput(
            f"{where}: declare 'image' or 'environment', not both (an image brings its own Python)"
        )
    return CubeSpec(
        name=name.strip(),
        kind=kind,
        tasks=tasks,
        has_parameters=(folder / PARAMETERS_FILE).is_file(),
        image=image.strip() if image else None,
        additional_files=_additional_files(where, folder, raw.get("additional_files")),
        python_environment=environment,
        gpu=gpu_need_at(where, raw.get("gpu")),
        workflow=workflow,
    )


def _additional_files(where: Path, folder: Path, raw: Any) -> str | None:
    """A native cube's additional files: a folder, or a ``.tar.gz`` archive, of the cube."""
    if raw is None:
        return None
    relative = inside_cube(where, folder, raw, "additional_files")
    path = folder / relative
    if not (path.is_dir() or (path.is_file() and relative.endswith(".tar.gz"))):
        raise InvalidInput(
            f"{where}: 'additional_files' ({relative}) must be a folder or a .tar.gz of the cube"
        )
    return relative
