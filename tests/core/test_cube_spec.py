"""The cube spec: every mistake in a medval-cube.yaml is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.cube_spec import SPEC_FILE, TASKS, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.states import CubeKind


def write_spec(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SPEC_FILE).write_text(text)
    return folder


def test_a_model_spec_loads_with_the_fixed_mounts(tmp_path: Path) -> None:
    folder = write_spec(
        tmp_path / "m", "name: m\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    (folder / "parameters.yaml").write_text("threshold: 0.3\n")
    spec = load_cube_spec(folder)
    assert spec.kind is CubeKind.MODEL
    assert spec.has_parameters
    assert spec.task("infer").entrypoint == ("python", "infer.py")
    assert spec.task("infer").io == TASKS[CubeKind.MODEL]["infer"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a mapping"),
        ("name: [unclosed", "not valid YAML"),
        ("kind: model\ntasks: {}\n", "'name' must be"),
        ("name: m\nkind: robot\ntasks: {}\n", "'kind' must be one of"),
        ("name: m\nkind: model\n", "'tasks' must be"),
        (
            "name: m\nkind: model\ntasks: {train: {entrypoint: [x]}}\n",
            "missing infer; unknown train",
        ),
        ("name: m\nkind: model\ntasks: {infer: {entrypoint: []}}\n", "needs 'entrypoint'"),
        ("name: m\nkind: model\ntasks: {infer: python}\n", "needs 'entrypoint'"),
    ],
)
def test_bad_specs_are_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    folder = write_spec(tmp_path / "m", text)
    with pytest.raises(InvalidInput, match=message) as info:
        load_cube_spec(folder)
    assert "\n" not in str(info.value)


def test_a_folder_without_a_spec_is_not_a_cube(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a cube"):
        load_cube_spec(tmp_path)


def test_asking_for_a_task_the_kind_lacks(tmp_path: Path) -> None:
    folder = write_spec(
        tmp_path / "m", "name: m\nkind: model\ntasks:\n  infer: {entrypoint: [python, i.py]}\n"
    )
    with pytest.raises(InvalidInput, match="has no task 'evaluate'"):
        load_cube_spec(folder).task("evaluate")


def test_an_image_is_read_as_written_and_must_be_a_name(tmp_path: Path) -> None:
    body = "name: m\nkind: model\ntasks:\n  infer: {entrypoint: [python, i.py]}\n"
    spec = load_cube_spec(write_spec(tmp_path / "a", body + "image: vendor/model:1.2\n"))
    assert spec.image == "vendor/model:1.2"
    assert load_cube_spec(write_spec(tmp_path / "b", body)).image is None
    with pytest.raises(InvalidInput, match="'image' must be"):
        load_cube_spec(write_spec(tmp_path / "c", body + "image: [1, 2]\n"))
