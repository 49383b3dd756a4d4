"""A preparation cube's workflow: named steps, each a task of the cube (or of another pinned
cube), run per case or once.

A data-preparation cube in medval's own format may declare, beside its tasks::

    tasks:
      prepare:      {entrypoint: [python, prepare.py]}
      sanity_check: {entrypoint: [python, sanity_check.py]}
      statistics:   {entrypoint: [python, statistics.py]}
      convert:      {entrypoint: [python, convert.py]}      # a task only a step names
    workflow:
      steps:
        convert: {task: convert, runs: per_case}
        look:    {runs: review, files: ["*.png"]}
        prepare: {task: prepare, runs: per_case}

A step may run a task of *another* registered data-preparation cube instead, pinned by its
registered id and archive hash (sha256, 64 hex digits)::

        segment: {task: segment, runs: per_case,
                  cube: {id: 7, archive_hash: 3f5a...e1}}

That task is not checked against this cube's tasks (the other cube's spec declares it). At
the site, before anything runs, the cube is asked of the server (``client.preparation
.step_cubes``): a registered archive other than the pin, an invalidated cube, one that is
not a data_preparator, or one whose spec does not declare the task as a step task, is
refused in one line; it is fetched and hash-checked as every cube is. Its task gets a step
task's mounts, and its archive hash is part of the step's input: another pin redoes the
step. Only this cube's own ``prepare`` writes the prepared data.

A *case* is a top-level entry of the raw data folder (a subject's folder, or a file). A
``per_case`` step runs its task once per case, a ``whole`` step once for the dataset, and a
``review`` step runs nothing: it stops the workflow and lists, for each case, the files
(``files``: patterns) to look at in what the step before it wrote. A step comes after the
step listed before it, or after the steps its ``after`` names (``after: []``: first).

What a step reads is what the one data step it comes after wrote (through review steps),
or the raw data. The workflow ends in the cube's ``prepare`` task, whose output is the
prepared data; ``sanity_check`` and ``statistics`` then run on it as they always do. A
cube without a workflow is the one-step case (``prepare`` once, on the whole data).

Each extra task (one only a step names) gets ``data_path`` and ``labels_path`` (inputs) and
``output_path``; ``prepare`` gets its usual mounts. Every problem is one line
(:class:`~medval.core.errors.InvalidInput`): a cycle, a step naming a task the cube does
not declare, an ``after`` naming no step, a ``cube`` pin of another shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from medval.core.errors import InvalidInput
from medval.core.schema_types import Sha256

PREPARE_TASK = "prepare"


class StepRuns(StrEnum):
    PER_CASE = "per_case"
    WHOLE = "whole"
    REVIEW = "review"


@dataclass(frozen=True)
class StepCube:
    """Another registered cube a step runs a task of, pinned by id and archive hash."""

    id: int
    archive_hash: str

    def __str__(self) -> str:
        return f"cube {self.id} (archive {self.archive_hash[:12]})"


PIN_SHAPE = "{id: <its registered id>, archive_hash: <its sha256, 64 hex digits>}"


class _CubePin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StrictInt = Field(gt=0)
    archive_hash: Sha256


class _StepDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs: StepRuns
    task: str | None = None
    cube: _CubePin | None = None
    after: list[str] | None = None
    files: list[str] = Field(default_factory=list)


class _WorkflowDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: dict[str, _StepDeclaration] = Field(min_length=1)


@dataclass(frozen=True)
class WorkflowStep:
    """One step. ``source``: the data step whose output it reads (None: the raw data)."""

    name: str
    runs: StepRuns
    task: str | None
    after: tuple[str, ...]
    source: str | None
    files: tuple[str, ...] = ()
    cube: StepCube | None = None  # None: a task of the preparation cube itself


@dataclass(frozen=True)
class Workflow:
    """The steps in an order that runs each after the steps it comes after."""

    steps: tuple[WorkflowStep, ...]

    def step(self, name: str) -> WorkflowStep:
        return next(step for step in self.steps if step.name == name)

    @property
    def final(self) -> WorkflowStep:
        """The step whose output is the prepared data (the ``prepare`` task)."""
        return next(step for step in self.steps if step.task == PREPARE_TASK)

    @property
    def tasks(self) -> frozenset[str]:
        """The preparation cube's own tasks the steps name (not a pinned cube's)."""
        return frozenset(s.task for s in self.steps if s.task is not None and s.cube is None)

    @property
    def pinned(self) -> tuple[WorkflowStep, ...]:
        """The steps that run a task of another cube."""
        return tuple(step for step in self.steps if step.cube is not None)


def parse_workflow(where: Path, raw: Any, tasks: set[str]) -> Workflow:
    """The ``workflow`` of the spec at ``where``, checked against the cube's ``tasks``."""
    try:
        declared = _WorkflowDeclaration.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        if first["loc"][:1] == ("steps",) and first["loc"][2:3] == ("cube",):
            raise InvalidInput(
                f"{where}: workflow step {first['loc'][1]!r}: 'cube' pins another cube as "
                f"{PIN_SHAPE}"
            ) from None
        raise InvalidInput(
            f"{where}: workflow{'.' + place if place else ''}: {first['msg']}"
        ) from None
    names = list(declared.steps)
    after: dict[str, tuple[str, ...]] = {}
    for index, (name, body) in enumerate(declared.steps.items()):
        if body.runs is StepRuns.REVIEW:
            if body.task is not None or body.cube is not None:
                raise InvalidInput(f"{where}: workflow step {name!r} is a review: it runs no task")
        elif body.task is None:
            raise InvalidInput(f"{where}: workflow step {name!r} needs 'task'")
        elif body.cube is not None:
            if body.task == PREPARE_TASK:
                raise InvalidInput(
                    f"{where}: workflow step {name!r} runs {PREPARE_TASK!r} of another cube: "
                    "only this cube's own prepare writes the prepared data"
                )
        elif body.task not in tasks:
            raise InvalidInput(
                f"{where}: workflow step {name!r} names task {body.task!r}, "
                "which the cube does not declare"
            )
        if body.after is None:
            after[name] = (names[index - 1],) if index else ()
        else:
            for before in body.after:
                if before not in declared.steps:
                    raise InvalidInput(
                        f"{where}: workflow step {name!r} comes after {before!r}, "
                        "which is not a step"
                    )
            after[name] = tuple(body.after)
    order = _in_order(where, names, after)
    sources = {name: _source(where, name, after, declared) for name in order}
    steps = tuple(
        WorkflowStep(
            name=name,
            runs=declared.steps[name].runs,
            task=declared.steps[name].task,
            after=after[name],
            source=sources[name],
            files=tuple(declared.steps[name].files),
            cube=_pin(declared.steps[name].cube),
        )
        for name in order
    )
    _check_shape(where, steps)
    return Workflow(steps)


def _pin(declared: _CubePin | None) -> StepCube | None:
    return None if declared is None else StepCube(declared.id, declared.archive_hash)


def _in_order(where: Path, names: list[str], after: dict[str, tuple[str, ...]]) -> list[str]:
    """The steps in declaration order, each after the steps it comes after; a cycle is
    named by the steps on it."""
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(names):
        ready = [n for n in names if n not in placed and set(after[n]) <= placed]
        if not ready:
            raise InvalidInput(
                f"{where}: workflow steps form a cycle: {_cycle(names, after, placed)}"
            )
        order.append(ready[0])
        placed.add(ready[0])
    return order


def _cycle(names: list[str], after: dict[str, tuple[str, ...]], placed: set[str]) -> str:
    # From any step not placed, follow an unplaced step it comes after until one repeats.
    path = [next(n for n in names if n not in placed)]
    while True:
        step = next(b for b in after[path[-1]] if b not in placed)
        if step in path:
            loop = [*path[path.index(step) :], step]
            return " -> ".join(reversed(loop))
        path.append(step)


def _source(
    where: Path, name: str, after: dict[str, tuple[str, ...]], declared: _WorkflowDeclaration
) -> str | None:
    """The one data step ``name`` reads from, looking through review steps."""
    found: list[str] = []
    pending = list(after[name])
    while pending:
        step = pending.pop(0)
        if declared.steps[step].runs is StepRuns.REVIEW:
            pending.extend(after[step])
        elif step not in found:
            found.append(step)
    if len(found) > 1:
        raise InvalidInput(
            f"{where}: workflow step {name!r} comes after more than one step that writes "
            f"data ({', '.join(found)}): it can read only one"
        )
    return found[0] if found else None


def _check_shape(where: Path, steps: tuple[WorkflowStep, ...]) -> None:
    finals = [step.name for step in steps if step.task == PREPARE_TASK]
    if len(finals) != 1:
        raise InvalidInput(
            f"{where}: a workflow runs the task {PREPARE_TASK!r} in exactly one step "
            f"(it writes the prepared data), not {len(finals)}"
        )
    read = {step.source for step in steps if step.runs is not StepRuns.REVIEW}
    if finals[0] in read:
        raise InvalidInput(
            f"{where}: workflow step {finals[0]!r} writes the prepared data: no step reads it"
        )
    for step in steps:
        if step.runs is not StepRuns.REVIEW:
            continue
        if step.source is None or next(s for s in steps if s.name == step.source).runs is not (
            StepRuns.PER_CASE
        ):
            raise InvalidInput(
                f"{where}: review step {step.name!r} must come after a per_case step "
                "(it reviews what that step wrote for each case)"
            )
