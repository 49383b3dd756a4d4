"""The other cubes a preparation workflow's steps run tasks of, each pinned by its registered
id and archive hash (:mod:`medval.core.preparation_workflow`).

Before anything runs, each pinned cube is asked of the server and refused in one line when
it is not registered, when its registered archive is not the pinned one, when it is
invalidated, when it is not a data-preparation cube, or when its spec does not declare the
step's task as a step task (``data_path``, ``labels_path`` in; ``output_path`` out). It
then runs as every cube does: fetched, its hash checked, unpacked once
(``Executor.tasks_of``). Its archive hash is part of every input hash of its step
(:func:`step_identity`): another pin redoes the step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from medval.core.cube_spec import STEP_TASK_IO, CubeSpec
from medval.core.errors import HashMismatch, InvalidInput, NotFound
from medval.core.preparation_workflow import StepCube, Workflow, WorkflowStep
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, check_valid

if TYPE_CHECKING:  # workflow_run reads this module: named here only
    from medval.client.preparation.workflow_run import TaskRunning


class CubeLookup(Protocol):
    """The one server call needed: a registered cube by id (``MedvalClient.cube``)."""

    def cube(self, cube_id: int) -> CubePublic: ...


class SiteCubes(Protocol):
    """A registered cube fetched, its hash checked, unpacked (``client.execution.Executor``)."""

    def unpacked(self, cube: CubePublic) -> AbstractContextManager[tuple[Path, CubeSpec]]: ...

    def tasks_of(self, cube: CubePublic) -> AbstractContextManager[TaskRunning]: ...


def step_identity(identity: str, step: WorkflowStep) -> str:
    """What a step's input hash starts with: the preparation cube's hash, and the pinned
    cube's when the step runs one (a step of the cube itself keeps the hash it had)."""
    return identity if step.cube is None else f"{identity}+{step.cube.archive_hash}"


def runner_for(
    step: WorkflowStep, own: TaskRunning, pinned: Mapping[StepCube, TaskRunning]
) -> TaskRunning:
    """What runs the step's task: the preparation cube, or the cube the step pins."""
    if step.cube is None:
        return own
    if step.cube not in pinned:
        raise InvalidInput(f"workflow step {step.name!r} runs a task of {step.cube}: not given")
    return pinned[step.cube]


def registered_step_cube(lookup: CubeLookup, step: WorkflowStep) -> CubePublic:
    """The cube ``step`` pins, as registered, or one line saying why it may not run."""
    pin = step.cube
    assert pin is not None
    try:
        cube = lookup.cube(pin.id)
    except NotFound:
        raise NotFound(
            f"workflow step {step.name!r} pins cube {pin.id}, which is not registered "
            "(or not visible to this account)"
        ) from None
    if cube.archive_hash != pin.archive_hash:
        raise HashMismatch(
            f"workflow step {step.name!r} pins cube {pin.id} at archive "
            f"{pin.archive_hash[:12]}, but cube {pin.id} ({cube.name}) is registered at "
            f"{cube.archive_hash[:12]}: nothing ran"
        )
    check_valid(f"cube {cube.name} ({cube.id}), pinned by workflow step {step.name!r},", cube)
    if cube.kind is not CubeKind.DATA_PREPARATOR:
        raise InvalidInput(
            f"workflow step {step.name!r} pins cube {cube.id} ({cube.name}), a "
            f"{cube.kind.value} cube: a step runs a task of a data_preparator cube"
        )
    return cube


@contextmanager
def step_cube_tasks(
    site: SiteCubes, lookup: CubeLookup, workflow: Workflow
) -> Iterator[dict[StepCube, TaskRunning]]:
    """Each cube the workflow pins, asked of the server (``lookup``) and checked (see the
    module) before any runs, then held unpacked while the workflow runs: its tasks, by pin."""
    checked: dict[StepCube, CubePublic] = {}
    steps_of: dict[StepCube, list[WorkflowStep]] = {}
    for step in workflow.pinned:
        assert step.cube is not None
        if step.cube not in checked:
            checked[step.cube] = registered_step_cube(lookup, step)
        steps_of.setdefault(step.cube, []).append(step)
    for pin, steps in steps_of.items():  # each cube's spec read once, for all its steps
        cube = checked[pin]
        with site.unpacked(cube) as (_, spec):
            for step in steps:
                _check_step_task(step, cube, spec)
    with ExitStack() as held:
        yield {pin: held.enter_context(site.tasks_of(cube)) for pin, cube in checked.items()}


def _check_step_task(step: WorkflowStep, cube: CubePublic, spec: CubeSpec) -> None:
    assert step.task is not None
    io = spec.tasks[step.task].io if step.task in spec.tasks else None
    if io is None or (io.inputs, io.outputs) != (STEP_TASK_IO.inputs, STEP_TASK_IO.outputs):
        raise InvalidInput(
            f"workflow step {step.name!r} runs task {step.task!r} of cube {cube.id} "
            f"({cube.name}), which that cube does not declare as a step task"
        )
