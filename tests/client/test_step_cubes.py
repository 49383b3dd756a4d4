"""A workflow step that runs a task of another registered cube, pinned by id and archive hash:
checked against the server before anything runs, run per case in the real sandbox, and redone
when the pin changes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.preparation.state import STATE_FILE
from medval.client.preparation.step_cubes import registered_step_cube, step_cube_tasks
from medval.client.preparation.workflow_run import run_workflow, workflow_folder
from medval.client.registration import pack_cube
from medval.client.workspace import Workspace
from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import HashMismatch, InvalidInput, InvalidTransition, NotFound
from medval.core.preparation_workflow import StepCube, Workflow
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import BubblewrapRunner, Limits
from tests.client.workflow_cube import SCRIPTS, write_cases
from tests.e2e.script_cubes import write_cube

# The other cube's step task: each case as it came, with a mark of its own.
MARK = """
    [case] = os.listdir(args["data_path"])
    shutil.copytree(os.path.join(args["data_path"], case), os.path.join(args["output_path"], case))
    with open(os.path.join(args["output_path"], case, "mark.txt"), "w") as out:
        out.write("marked by the other cube")
    """

OTHER_ID = 7


def pinned_workflow(archive_hash: str) -> str:
    return (
        "workflow:\n  steps:\n"
        "    convert: {task: convert, runs: per_case}\n"
        f"    mark: {{task: mark, runs: per_case, cube: {{id: {OTHER_ID}, "
        f"archive_hash: {archive_hash}}}}}\n"
        "    prepare: {task: prepare, runs: whole}\n"
    )


def write_other_cube(root: Path) -> Path:
    """A preparation cube of its own whose workflow names ``mark``, a step task."""
    scripts = {**SCRIPTS, "mark.py": MARK}
    del scripts["convert.py"]
    folder = write_cube(root, "marker", "data_preparator", scripts)
    spec = folder / SPEC_FILE
    spec.write_text(
        spec.read_text() + "workflow:\n  steps:\n"
        "    mark: {task: mark, runs: per_case}\n    prepare: {task: prepare, runs: whole}\n"
    )
    return folder


def registered(cube_id: int, name: str, archive_hash: str, kind: CubeKind) -> CubePublic:
    return CubePublic(
        id=cube_id, name=name, kind=kind, archive_hash=archive_hash, owner_id=1,
        owner="committee", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip


class RegisteredCubes(MedvalClient):
    """The server's one answer the run needs (``cube``), from a table the test sets; any
    other call goes to a port nothing listens on."""

    def __init__(self, cubes: dict[int, CubePublic]) -> None:
        super().__init__("http://127.0.0.1:9")
        self.cubes = cubes
        self.asked: list[int] = []

    def cube(self, cube_id: int) -> CubePublic:
        self.asked.append(cube_id)
        return self.cubes[cube_id]


class SaidProgress:
    def __init__(self) -> None:
        self.said: list[str] = []

    def step(self, message: str) -> None:
        self.said.append(message)

    def done(self, message: str, seconds: float) -> None:
        return None


def _done(work: Path, step: str) -> set[str]:
    with sqlite3.connect(work / STATE_FILE) as db:
        rows = db.execute(
            "SELECT case_name FROM step_cases WHERE step = ? AND state = 'done'", (step,)
        )
        return {row[0] for row in rows}


def test_a_pinned_cube_runs_its_task_per_case_and_a_wrong_pin_is_refused(tmp_path: Path) -> None:
    other = pack_cube(write_other_cube(tmp_path / "cubes"))
    prep_folder = write_cube(tmp_path / "cubes", "workflow-prep", "data_preparator", SCRIPTS)
    spec = prep_folder / SPEC_FILE
    spec.write_text(spec.read_text() + pinned_workflow(other.sha256))
    prep = pack_cube(prep_folder)
    workspace = Workspace(tmp_path / "home")
    workspace.cubes_dir.mkdir(parents=True)
    for packed in (other, prep):  # both cached: only ``cube`` is asked of the server
        workspace.cube_archive(packed.sha256).write_bytes(packed.archive)
    preparator = registered(3, "workflow-prep", prep.sha256, CubeKind.DATA_PREPARATOR)
    marker = registered(OTHER_ID, "marker", other.sha256, CubeKind.DATA_PREPARATOR)
    server = RegisteredCubes({OTHER_ID: marker})
    progress = SaidProgress()
    executor = Executor(server, workspace, BubblewrapRunner(), Limits(), progress=progress)
    data, labels = write_cases(tmp_path / "raw", 4, broken=(1,))
    out = workspace.dataset_dir("site-a")

    data_hash, statistics = executor.prepare(preparator, data, labels, out, benchmark_k=1, jobs=2)
    cases = ["case-00", "case-02", "case-03"]
    assert sorted(p.name for p in (out / "data").iterdir()) == cases
    for case in cases:
        assert (out / "data" / case / "mark.txt").read_text() == "marked by the other cube"
        assert (out / "data" / case / "value.txt").read_text() == f"VALUE {case[-1]}"
    assert statistics.document.n_cases == 3
    assert progress.said.count("marker: mark") == 3
    assert server.asked == [OTHER_ID]

    # The server says cube 7's archive is another one than the pin: one line, nothing runs,
    # and what the workflow prepared is kept.
    work = workflow_folder(out)
    before = (_done(work, "convert"), _done(work, "mark"))
    server.cubes[OTHER_ID] = registered(OTHER_ID, "marker", "cd" * 32, CubeKind.DATA_PREPARATOR)
    said = len(progress.said)
    with pytest.raises(HashMismatch) as refused:
        executor.prepare(preparator, data, labels, out, benchmark_k=1)
    assert refused.value.message == (
        f"workflow step 'mark' pins cube 7 at archive {other.sha256[:12]}, but cube 7 "
        "(marker) is registered at cdcdcdcdcdcd: nothing ran"
    )
    assert refused.value.exit_code == 6
    assert not any(
        line.startswith(("marker: ", "workflow-prep: ")) for line in progress.said[said:]
    )
    assert (_done(work, "convert"), _done(work, "mark")) == before
    assert before == ({"case-00", "case-02", "case-03"},) * 2

    # Registered as pinned again: every finished step is kept, nothing is redone.
    server.cubes[OTHER_ID] = marker
    said = len(progress.said)
    assert executor.prepare(preparator, data, labels, out, benchmark_k=1)[0] == data_hash
    tasks = [line for line in progress.said[said:] if line.startswith(("marker: ", "workflow-"))]
    assert tasks == ["workflow-prep: sanity_check", "workflow-prep: statistics"]


def test_a_cube_that_does_not_declare_the_step_task_is_refused(tmp_path: Path) -> None:
    other = pack_cube(write_other_cube(tmp_path / "cubes"))
    workspace = Workspace(tmp_path / "home")
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(other.sha256).write_bytes(other.archive)
    marker = registered(OTHER_ID, "marker", other.sha256, CubeKind.DATA_PREPARATOR)
    executor = Executor(
        RegisteredCubes({OTHER_ID: marker}), workspace, BubblewrapRunner(), Limits()
    )
    workflow = _workflow(
        tmp_path / "prep", pinned_workflow(other.sha256).replace("mark,", "sharpen,")
    )
    with (
        pytest.raises(InvalidInput) as refused,
        step_cube_tasks(executor, executor.client, workflow),
    ):
        pass
    assert refused.value.message == (
        "workflow step 'mark' runs task 'sharpen' of cube 7 (marker), "
        "which that cube does not declare as a step task"
    )
    # ``sanity_check`` is the other cube's, but not a step task (it writes nothing).
    checking = pinned_workflow(other.sha256).replace("mark,", "sanity_check,")
    workflow = _workflow(tmp_path / "prep2", checking)
    with (
        pytest.raises(InvalidInput) as refused,
        step_cube_tasks(executor, executor.client, workflow),
    ):
        pass
    assert refused.value.message == (
        "workflow step 'mark' runs task 'sanity_check' of cube 7 (marker), "
        "which that cube does not declare as a step task"
    )
    assert refused.value.exit_code == 2


class Lookup:
    def __init__(self, cube: CubePublic) -> None:
        self.registered = cube

    def cube(self, cube_id: int) -> CubePublic:
        if cube_id != self.registered.id:
            raise NotFound(f"cube {cube_id} not found")
        return self.registered


def test_the_registration_is_checked_before_anything_runs(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, pinned_workflow("ab" * 32))
    [step] = workflow.pinned
    as_pinned = registered(OTHER_ID, "marker", "ab" * 32, CubeKind.DATA_PREPARATOR)
    assert registered_step_cube(Lookup(as_pinned), step) is as_pinned

    with pytest.raises(HashMismatch) as refused:
        registered_step_cube(Lookup(as_pinned.model_copy(update={"archive_hash": "0" * 64})), step)
    assert refused.value.message == (
        "workflow step 'mark' pins cube 7 at archive abababababab, but cube 7 (marker) "
        "is registered at 000000000000: nothing ran"
    )
    with pytest.raises(InvalidInput) as refused:
        registered_step_cube(Lookup(as_pinned.model_copy(update={"kind": CubeKind.MODEL})), step)
    assert refused.value.message == (
        "workflow step 'mark' pins cube 7 (marker), a model cube: "
        "a step runs a task of a data_preparator cube"
    )
    assert refused.value.exit_code == 2
    gone = as_pinned.model_copy(
        update={"invalidated_at": datetime(2026, 3, 1, tzinfo=UTC), "invalidated_by": "alice"}
    )
    with pytest.raises(InvalidTransition) as refused:
        registered_step_cube(Lookup(gone), step)
    assert refused.value.message == (
        "cube marker (7), pinned by workflow step 'mark', was invalidated by alice on "
        "2026-03-01; nothing new runs against it"
    )
    assert refused.value.exit_code == 5
    with pytest.raises(NotFound) as missing:
        registered_step_cube(Lookup(as_pinned.model_copy(update={"id": 8})), step)
    assert missing.value.message == (
        "workflow step 'mark' pins cube 7, which is not registered (or not visible to this account)"
    )
    assert missing.value.exit_code == 4


def _workflow(folder: Path, workflow: str) -> Workflow:
    prep = write_cube(folder, "workflow-prep", "data_preparator", SCRIPTS)
    (prep / SPEC_FILE).write_text((prep / SPEC_FILE).read_text() + workflow)
    declared = load_cube_spec(prep).workflow
    assert declared is not None
    return declared


class Copying:
    """A task seam in plain Python: each case copied, ``runs`` counting (task, case)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def __call__(self, task: str, mounts: Mapping[str, Path]) -> None:
        entries = sorted(p.name for p in mounts["data_path"].iterdir())
        self.runs.append((task, entries[0] if len(entries) == 1 else "all"))
        shutil.copytree(mounts["data_path"], mounts["output_path"], dirs_exist_ok=True)
        if "output_labels_path" in mounts:
            mounts["output_labels_path"].mkdir(parents=True, exist_ok=True)


def test_another_pin_redoes_the_pinned_step_only(tmp_path: Path) -> None:
    data, labels = write_cases(tmp_path / "raw", 2)
    work = tmp_path / "work"
    first, second = StepCube(OTHER_ID, "ab" * 32), StepCube(OTHER_ID, "cd" * 32)
    own, other = Copying(), Copying()
    workflow = _workflow(tmp_path / "a", pinned_workflow(first.archive_hash))
    run_workflow(workflow, own, data, labels, work, step_cubes={first: other})
    assert other.runs == [("mark", "case-00"), ("mark", "case-01")]
    assert own.runs == [("convert", "case-00"), ("convert", "case-01"), ("prepare", "all")]

    # The same pin: nothing runs. Another pin: its step runs again for every case; what
    # comes after it reads the same data and is kept.
    run_workflow(workflow, own, data, labels, work, step_cubes={first: other})
    assert len(other.runs) == 2 and len(own.runs) == 3
    repinned = _workflow(tmp_path / "b", pinned_workflow(second.archive_hash))
    run_workflow(repinned, own, data, labels, work, step_cubes={second: other})
    assert other.runs[2:] == [("mark", "case-00"), ("mark", "case-01")]
    assert len(own.runs) == 3

    with pytest.raises(InvalidInput) as refused:
        run_workflow(repinned, own, data, labels, tmp_path / "elsewhere")
    assert refused.value.message == (
        "workflow step 'mark' runs a task of cube 7 (archive cdcdcdcdcdcd): not given"
    )
