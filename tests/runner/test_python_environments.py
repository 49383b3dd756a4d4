"""Building cubes' Python environments: once per key, whole or not at all, side by side."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from medval.core.cube_spec import load_cube_spec
from medval.core.errors import SandboxError
from medval.core.python_environment import PythonEnvironment, check_wheels
from medval.runner.python_environments import (
    BaseInterpreter,
    EnvironmentStore,
    environment_key,
)
from tests.cube_wheels import lock_line, write_environment_cube, write_wheel


def _cube(folder: Path) -> PythonEnvironment:
    write_environment_cube(folder, "")
    environment = load_cube_spec(folder).python_environment
    assert environment is not None
    return environment


def test_builders_side_by_side_build_one_environment(tmp_path: Path) -> None:
    environment = _cube(tmp_path / "cube")
    store = EnvironmentStore(tmp_path / "envs")
    built: list[Path] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            built.append(store.environment_for(tmp_path / "cube", environment, "probe"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(built)) == 1
    (only,) = set(built)
    # One environment, its lock file, and no half-built folder left behind.
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == [only.name, f"{only.name}.lock"]
    assert (only / "bin" / "python").is_symlink()


def test_a_builder_killed_half_way_leaves_nothing_that_is_used(tmp_path: Path) -> None:
    environment = _cube(tmp_path / "cube")
    store = EnvironmentStore(tmp_path / "envs")
    wheels = check_wheels(tmp_path / "cube", environment)
    key = environment_key(
        (tmp_path / "cube" / "requirements.lock").read_bytes(), wheels, store.base
    )
    leftover = tmp_path / "envs" / f".building-{key[:16]}-killed"
    (leftover / "lib").mkdir(parents=True)

    built = store.environment_for(tmp_path / "cube", environment, "probe")

    assert built == (tmp_path / "envs" / key).resolve()
    assert not leftover.exists()


def test_the_key_follows_the_lock_the_wheels_and_the_interpreter(tmp_path: Path) -> None:
    environment = _cube(tmp_path / "cube")
    wheels = check_wheels(tmp_path / "cube", environment)
    lock = (tmp_path / "cube" / "requirements.lock").read_bytes()
    base = BaseInterpreter.current()
    key = environment_key(lock, wheels, base)
    assert environment_key(lock, wheels, base) == key
    assert environment_key(lock + b"# another comment\n", wheels, base) != key
    assert environment_key(lock, (), base) != key
    assert environment_key(lock, wheels, BaseInterpreter(Path("/opt/other/python3"))) != key


def test_a_missing_base_interpreter_is_one_line(tmp_path: Path) -> None:
    environment = _cube(tmp_path / "cube")
    store = EnvironmentStore(tmp_path / "envs", BaseInterpreter(tmp_path / "no-python"))
    with pytest.raises(SandboxError) as caught:
        store.environment_for(tmp_path / "cube", environment, "probe")
    assert str(caught.value) == (
        f"cube 'probe': no base Python at {tmp_path / 'no-python'} to build its environment from"
    )


def test_a_wheel_pip_cannot_install_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    cube = tmp_path / "cube"
    wheel = write_environment_cube(cube, "")
    wheel.write_bytes(b"not a zip file")  # pinned below: only pip finds it broken
    (cube / "requirements.lock").write_text(lock_line(wheel))
    environment = load_cube_spec(cube).python_environment
    assert environment is not None

    with pytest.raises(SandboxError) as caught:
        EnvironmentStore(tmp_path / "envs").environment_for(cube, environment, "probe")

    message = str(caught.value)
    assert message.startswith("cube 'probe': its Python environment could not be built: ERROR")
    assert "\n" not in message
    assert sorted(p.name for p in (tmp_path / "envs").iterdir())[0].endswith(".lock")
    assert [p for p in (tmp_path / "envs").iterdir() if p.is_dir()] == []


def test_a_module_this_python_cannot_compile_is_left_and_the_rest_is_compiled(
    tmp_path: Path,
) -> None:
    """As pip does: PyTorch's wheel for Python 3.11 ships a test helper in 3.12 syntax."""
    cube = tmp_path / "cube"
    write_environment_cube(cube, "")
    wheel = write_wheel(
        cube / "wheels",
        "medval_probe_wheel",
        "1.0",
        {
            "medval_probe_wheel/__init__.py": "VALUE = 42\n",
            "medval_probe_wheel/newer.py": "def (:\n",
        },
    )
    (cube / "requirements.lock").write_text(lock_line(wheel))
    environment = load_cube_spec(cube).python_environment
    assert environment is not None

    built = EnvironmentStore(tmp_path / "envs").environment_for(cube, environment, "probe")

    package = next(built.glob("lib/python*/site-packages/medval_probe_wheel"))
    compiled = sorted(p.name.split(".")[0] for p in (package / "__pycache__").iterdir())
    assert compiled == ["__init__"]
    assert (package / "newer.py").read_text() == "def (:\n"
