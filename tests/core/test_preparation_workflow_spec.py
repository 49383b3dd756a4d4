"""A preparation cube's workflow in its medval-cube.yaml: each mistake is one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.cube_spec import SPEC_FILE, STEP_TASK_IO, TASKS, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.preparation_workflow import PIN_SHAPE, StepCube, StepRuns
from medval.core.states import CubeKind

TASK_LINES = """name: p
kind: data_preparator
tasks:
  prepare: {entrypoint: [python, prepare.py]}
  sanity_check: {entrypoint: [python, sanity_check.py]}
  statistics: {entrypoint: [python, statistics.py]}
  convert: {entrypoint: [python, convert.py]}
"""


def spec_with(tmp_path: Path, workflow: str, tasks: str = TASK_LINES) -> Path:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / SPEC_FILE).write_text(tasks + "workflow:\n  steps:\n" + workflow)
    return folder


def test_steps_run_in_order_each_reading_the_data_step_before_it(tmp_path: Path) -> None:
    folder = spec_with(
        tmp_path,
        "    convert: {task: convert, runs: per_case}\n"
        "    look: {runs: review, files: ['*.png']}\n"
        "    prepare: {task: prepare, runs: whole}\n",
    )
    spec = load_cube_spec(folder)
    assert spec.workflow is not None
    steps = {step.name: step for step in spec.workflow.steps}
    assert [s.name for s in spec.workflow.steps] == ["convert", "look", "prepare"]
    assert steps["prepare"].after == ("look",) and steps["prepare"].source == "convert"
    assert steps["look"].runs is StepRuns.REVIEW and steps["look"].files == ("*.png",)
    assert spec.task("convert").io == STEP_TASK_IO
    assert spec.task("prepare").io == TASKS[CubeKind.DATA_PREPARATOR]["prepare"]


def test_a_cube_without_a_workflow_has_none_and_no_extra_task(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / SPEC_FILE).write_text(TASK_LINES)
    with pytest.raises(InvalidInput) as refused:
        load_cube_spec(folder)
    assert refused.value.message.endswith("; unknown convert")
    (folder / SPEC_FILE).write_text(TASK_LINES.replace(
        "  convert: {entrypoint: [python, convert.py]}\n", ""
    ))  # fmt: skip
    assert load_cube_spec(folder).workflow is None


HASH = "ab" * 32
PIN_ERROR = f"workflow step 'segment': 'cube' pins another cube as {PIN_SHAPE}"


def test_a_step_may_run_a_task_of_another_pinned_cube(tmp_path: Path) -> None:
    folder = spec_with(
        tmp_path,
        "    convert: {task: convert, runs: per_case}\n"
        f"    segment: {{task: segment, runs: per_case, cube: {{id: 7, archive_hash: {HASH}}}}}\n"
        "    prepare: {task: prepare, runs: whole}\n",
    )
    spec = load_cube_spec(folder)
    assert spec.workflow is not None
    segment = spec.workflow.step("segment")
    assert segment.cube == StepCube(7, HASH) and segment.task == "segment"
    assert segment.source == "convert" and spec.workflow.step("prepare").source == "segment"
    assert spec.workflow.pinned == (segment,)
    # The other cube's task is not one of this cube's: it needs no entrypoint here.
    assert "segment" not in spec.tasks and spec.workflow.tasks == {"convert", "prepare"}
    assert str(segment.cube) == "cube 7 (archive abababababab)"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "    a: {task: convert, runs: per_case, after: [b]}\n"
            "    b: {task: convert, runs: per_case, after: [a]}\n"
            "    prepare: {task: prepare, runs: whole, after: [b]}\n",
            "workflow steps form a cycle: a -> b -> a",
        ),
        (
            "    convert: {task: skull_strip, runs: per_case}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            "workflow step 'convert' names task 'skull_strip', which the cube does not declare",
        ),
        (
            "    convert: {task: convert, runs: per_case}\n"
            "    prepare: {task: prepare, runs: whole, after: [conver]}\n",
            "workflow step 'prepare' comes after 'conver', which is not a step",
        ),
        (
            "    convert: {task: convert, runs: per_case}\n",
            "a workflow runs the task 'prepare' in exactly one step "
            "(it writes the prepared data), not 0",
        ),
        (
            "    convert: {task: convert, runs: sometimes}\n",
            "workflow.steps.convert.runs: Input should be 'per_case', 'whole' or 'review'",
        ),
        (
            "    a: {task: convert, runs: per_case, after: []}\n"
            "    b: {task: convert, runs: per_case, after: []}\n"
            "    prepare: {task: prepare, runs: whole, after: [a, b]}\n",
            "workflow step 'prepare' comes after more than one step that writes data (a, b): "
            "it can read only one",
        ),
        (
            "    look: {runs: review}\n    prepare: {task: prepare, runs: whole}\n"
            "    convert: {task: convert, runs: per_case, after: []}\n",
            "review step 'look' must come after a per_case step "
            "(it reviews what that step wrote for each case)",
        ),
        (
            "    segment: {task: segment, runs: per_case, cube: {id: 7, archive_hash: abc}}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            PIN_ERROR,
        ),
        (
            "    segment: {task: segment, runs: per_case,\n"
            f"              cube: {{id: '7', archive_hash: {HASH}}}}}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            PIN_ERROR,
        ),
        (
            "    segment: {task: segment, runs: per_case, cube: 7}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            PIN_ERROR,
        ),
        (
            f"    segment: {{task: segment, runs: per_case, cube: {{id: 7, hash: {HASH}}}}}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            PIN_ERROR,
        ),
        (
            "    convert: {task: convert, runs: per_case}\n"
            f"    prepare: {{task: prepare, runs: whole, cube: {{id: 7, archive_hash: {HASH}}}}}\n",
            "workflow step 'prepare' runs 'prepare' of another cube: "
            "only this cube's own prepare writes the prepared data",
        ),
        (
            "    convert: {task: convert, runs: per_case}\n"
            f"    look: {{runs: review, cube: {{id: 7, archive_hash: {HASH}}}}}\n"
            "    prepare: {task: prepare, runs: whole}\n",
            "workflow step 'look' is a review: it runs no task",
        ),
    ],
)
def test_a_wrong_workflow_is_one_line_with_exit_2(tmp_path: Path, steps: str, message: str) -> None:
    folder = spec_with(tmp_path, steps)
    with pytest.raises(InvalidInput) as refused:
        load_cube_spec(folder)
    assert refused.value.message == f"{folder / SPEC_FILE}: {message}"
    assert refused.value.exit_code == 2
