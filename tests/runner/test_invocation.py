"""Planning a task: mount checks and the command line, the same for every runner."""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath

import pytest

from medval.core.cube_spec import TASKS, CubeSpec, TaskSpec
from medval.core.errors import InvalidInput, SandboxError
from medval.core.states import CubeKind
from medval.runner.invocation import plan_invocation


def _spec(kind: CubeKind, entrypoint: tuple[str, ...], has_parameters: bool = False) -> CubeSpec:
    tasks = {name: TaskSpec(name, entrypoint, io) for name, io in TASKS[kind].items()}
    return CubeSpec("prep", kind, tasks, has_parameters=has_parameters)


@pytest.fixture
def cube_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cube"
    folder.mkdir()
    return folder


def _folders(tmp_path: Path, *names: str) -> dict[str, Path]:
    mounts = {name: tmp_path / name for name in names}
    for path in mounts.values():
        path.mkdir(exist_ok=True)
    return mounts


def test_prepare_gets_inputs_read_only_then_outputs_writable(
    tmp_path: Path, cube_folder: Path
) -> None:
    spec = _spec(CubeKind.DATA_PREPARATOR, ("python", "prep.py", "--verbose"), True)
    mounts = _folders(tmp_path, "labels_path", "data_path")
    mounts |= {"output_path": tmp_path / "out", "output_labels_path": tmp_path / "out_labels"}

    plan = plan_invocation(cube_folder, spec, "prepare", mounts)

    assert [(m.name, m.writable) for m in plan.mounts] == [
        ("data_path", False),
        ("labels_path", False),
        ("output_path", True),
        ("output_labels_path", True),
    ]
    assert all(m.sandbox_path == PurePosixPath("/mlcube_io") / m.name for m in plan.mounts)
    assert (tmp_path / "out").is_dir() and (tmp_path / "out_labels").is_dir()
    assert plan.command("/opt/venv/bin/python") == [
        "/opt/venv/bin/python",
        "prep.py",
        "--verbose",
        "--data_path=/mlcube_io/data_path",
        "--labels_path=/mlcube_io/labels_path",
        "--output_path=/mlcube_io/output_path",
        "--output_labels_path=/mlcube_io/output_labels_path",
        "--parameters_file=/cube/parameters.yaml",
    ]


def test_a_task_without_outputs_gets_only_read_only_mounts(
    tmp_path: Path, cube_folder: Path
) -> None:
    spec = _spec(CubeKind.DATA_PREPARATOR, ("./check.sh",))
    plan = plan_invocation(
        cube_folder, spec, "sanity_check", _folders(tmp_path, "data_path", "labels_path")
    )
    assert not any(m.writable for m in plan.mounts)
    # Only a leading "python" is replaced; other programs run as written.
    assert plan.command("/venv/bin/python")[0] == "./check.sh"


def test_python3_also_means_the_sandbox_python(tmp_path: Path, cube_folder: Path) -> None:
    spec = _spec(CubeKind.EVALUATOR, ("python3", "-m", "metrics"))
    mounts = _folders(tmp_path, "predictions", "labels") | {"output_path": tmp_path / "o"}
    plan = plan_invocation(cube_folder, spec, "evaluate", mounts)
    assert plan.command("/sandbox/python")[:3] == ["/sandbox/python", "-m", "metrics"]
    assert plan.label == "task 'evaluate' of cube 'prep'"


def test_mount_names_are_checked_in_one_line(tmp_path: Path, cube_folder: Path) -> None:
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    with pytest.raises(InvalidInput) as error:
        plan_invocation(cube_folder, spec, "infer", {"data": tmp_path, "extra": tmp_path})
    assert str(error.value) == (
        "task 'infer' of cube 'prep' takes data_path, output_path; "
        "missing data_path, output_path; unknown data, extra"
    )


def test_an_output_that_is_the_cube_folder_is_refused(tmp_path: Path, cube_folder: Path) -> None:
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    mounts = _folders(tmp_path, "data_path") | {"output_path": cube_folder / "results"}
    with pytest.raises(InvalidInput, match="overlaps the cube folder"):
        plan_invocation(cube_folder, spec, "infer", mounts)


def test_an_input_inside_an_output_is_refused(tmp_path: Path, cube_folder: Path) -> None:
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    (tmp_path / "work" / "data").mkdir(parents=True)
    mounts = {"data_path": tmp_path / "work" / "data", "output_path": tmp_path / "work"}
    with pytest.raises(InvalidInput, match="overlaps input 'data_path'"):
        plan_invocation(cube_folder, spec, "infer", mounts)


def test_inputs_may_share_a_folder(tmp_path: Path, cube_folder: Path) -> None:
    spec = _spec(CubeKind.DATA_PREPARATOR, ("python", "check.py"))
    shared = _folders(tmp_path, "both")["both"]
    plan = plan_invocation(
        cube_folder, spec, "sanity_check", {"data_path": shared, "labels_path": shared}
    )
    assert [m.host_path for m in plan.mounts] == [shared.resolve(), shared.resolve()]


def test_an_output_path_that_is_a_file_is_a_sandbox_error(
    tmp_path: Path, cube_folder: Path
) -> None:
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    (tmp_path / "taken").write_text("not a folder")
    mounts = _folders(tmp_path, "data_path") | {"output_path": tmp_path / "taken"}
    with pytest.raises(SandboxError, match=r"^output mount 'output_path' cannot be created"):
        plan_invocation(cube_folder, spec, "infer", mounts)


def test_a_missing_cube_folder_is_a_sandbox_error(tmp_path: Path) -> None:
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    mounts = _folders(tmp_path, "data_path", "output_path")
    with pytest.raises(SandboxError, match=r"^cube folder is missing"):
        plan_invocation(tmp_path / "gone", spec, "infer", mounts)


def test_relative_mount_paths_become_absolute(
    tmp_path: Path, cube_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = _spec(CubeKind.MODEL, ("python", "infer.py"))
    _folders(tmp_path, "data_path")
    plan = plan_invocation(
        Path("cube"), spec, "infer", {"data_path": Path("data_path"), "output_path": Path("o")}
    )
    assert plan.cube_folder.is_absolute()
    assert all(m.host_path.is_absolute() for m in plan.mounts)


def test_a_cube_with_an_image_runs_only_by_a_pinned_image_id(
    tmp_path: Path, cube_folder: Path
) -> None:
    spec = dataclasses.replace(_spec(CubeKind.MODEL, ("python", "infer.py")), image="vendor/m:1")
    mounts = _folders(tmp_path, "data_path", "output_path")
    with pytest.raises(SandboxError, match="names the image vendor/m:1 but was given no pinned"):
        plan_invocation(cube_folder, spec, "infer", mounts)
    with pytest.raises(InvalidInput, match="is not an image ID"):
        plan_invocation(cube_folder, spec, "infer", mounts, image="vendor/m:1")
    digest = "sha256:" + "0" * 64
    invocation = plan_invocation(cube_folder, spec, "infer", mounts, image=digest)
    assert invocation.image == digest
    # The image's own python, not the client's.
    assert invocation.command(None)[:2] == ["python", "infer.py"]
