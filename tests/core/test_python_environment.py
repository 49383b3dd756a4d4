"""A native cube's declared Python environment and additional files: what is read, and
each mistake as the one line its author sees."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.cube_wheels import lock_line, write_environment_cube, write_wheel

from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.python_environment import check_wheels

_SPEC = "name: probe\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"


@pytest.fixture
def cube(tmp_path: Path) -> Path:
    folder = tmp_path / "cube"
    write_environment_cube(folder, "print('hi')\n")
    return folder


def _refusal(folder: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        spec = load_cube_spec(folder)
        assert spec.python_environment is not None
        check_wheels(folder, spec.python_environment)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _declare(folder: Path, body: str) -> None:
    (folder / SPEC_FILE).write_text(_SPEC + body)


def test_a_declared_environment_is_read_with_its_pins(cube: Path) -> None:
    wheel = cube / "wheels" / "medval_probe_wheel-1.0-py3-none-any.whl"
    spec = load_cube_spec(cube)

    assert spec.python_environment is not None
    assert (spec.python_environment.requirements, spec.python_environment.wheels) == (
        "requirements.lock",
        "wheels",
    )
    (pinned,) = spec.python_environment.pinned
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert (pinned.name, pinned.version, pinned.hashes) == ("medval-probe-wheel", "1.0", {digest})
    (shipped,) = check_wheels(cube, spec.python_environment)
    assert (shipped.path, shipped.sha256) == (wheel, digest)


def test_a_cube_without_environment_has_none(tmp_path: Path) -> None:
    write_environment_cube(tmp_path / "cube", "", with_environment=False)
    assert load_cube_spec(tmp_path / "cube").python_environment is None


def test_a_missing_lock_is_one_line(cube: Path) -> None:
    (cube / "requirements.lock").unlink()
    assert _refusal(cube) == (
        f"{cube / SPEC_FILE}: the requirements lock requirements.lock is not a file of the cube"
    )


@pytest.mark.parametrize(
    ("lock", "problem"),
    [
        ("medval_probe_wheel==1.0\n", "medval_probe_wheel has no --hash=sha256:..."),
        (
            "medval_probe_wheel>=1.0 --hash=sha256:" + "a" * 64 + "\n",
            "medval_probe_wheel is not pinned with ==VERSION",
        ),
        (
            "medval_probe_wheel==1.* --hash=sha256:" + "a" * 64 + "\n",
            "medval_probe_wheel is not pinned with ==VERSION",
        ),
        (
            "--index-url https://pypi.org/simple\n",
            "option --index-url is not allowed: a cube's environment comes from its own "
            "wheels only",
        ),
        (
            "medval_probe_wheel==1.0 --hash=md5:abc\n",
            "--hash is not allowed: only --hash=sha256:<64 hex>",
        ),
    ],
)
def test_a_lock_line_not_pinned_with_a_hash_is_refused(cube: Path, lock: str, problem: str) -> None:
    (cube / "requirements.lock").write_text("# a comment\n" + lock)
    assert _refusal(cube) == f"requirements.lock line 2: {problem}"


def test_a_wheels_folder_outside_the_cube_is_refused(cube: Path) -> None:
    _declare(cube, "environment:\n  python: {requirements: requirements.lock, wheels: ../w}\n")
    assert _refusal(cube) == (
        f"{cube / SPEC_FILE}: 'environment.python.wheels' (../w) is outside the cube folder"
    )


def test_a_wheel_the_lock_does_not_name_is_refused(cube: Path) -> None:
    write_wheel(cube / "wheels", "stowaway", "2.0", {"stowaway.py": "X = 1\n"})
    assert _refusal(cube) == (
        f"{cube / 'wheels'}: stowaway-2.0-py3-none-any.whl is not named by requirements.lock "
        "(stowaway==2.0 is not pinned there)"
    )


def test_a_tampered_wheel_is_refused(cube: Path) -> None:
    wheel = write_wheel(
        cube / "wheels", "medval_probe_wheel", "1.0", {"medval_probe_wheel/__init__.py": "X=1\n"}
    )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert _refusal(cube) == (
        f"{cube / 'wheels'}: {wheel.name} has sha256 {digest[:12]}…, which requirements.lock "
        "does not pin for medval-probe-wheel==1.0: refused (tampered or another build)"
    )


def test_a_source_distribution_is_refused(cube: Path) -> None:
    (cube / "wheels" / "medval_probe_wheel-1.0.tar.gz").write_bytes(b"not built here")
    assert _refusal(cube) == (
        f"{cube / 'wheels'}: medval_probe_wheel-1.0.tar.gz is a source distribution: wheels "
        "only, as building one would run its own setup code outside the sandbox"
    )


def test_a_pinned_requirement_without_its_wheel_is_refused(cube: Path) -> None:
    other = write_wheel(cube / "elsewhere", "helper", "3.1", {"helper.py": ""})
    with (cube / "requirements.lock").open("a") as lock:
        lock.write(lock_line(other))
    assert _refusal(cube) == (
        f"{cube / 'wheels'}: holds no wheel of helper==3.1, pinned by requirements.lock line 4"
    )


def test_an_image_and_an_environment_are_not_both_declared(cube: Path) -> None:
    _declare(
        cube,
        "image: vendor/model:1\n"
        "environment:\n  python: {requirements: requirements.lock, wheels: wheels}\n",
    )
    assert _refusal(cube) == (
        f"{cube / SPEC_FILE}: declare 'image' or 'environment', not both (an image brings its "
        "own Python)"
    )


def test_native_additional_files_are_a_folder_or_archive_of_the_cube(tmp_path: Path) -> None:
    folder = tmp_path / "cube"
    (folder / "weights").mkdir(parents=True)
    _declare(folder, "additional_files: weights/\n")
    assert load_cube_spec(folder).additional_files == "weights"

    _declare(folder, "additional_files: ../weights\n")
    with pytest.raises(InvalidInput) as outside:
        load_cube_spec(folder)
    assert str(outside.value) == (
        f"{folder / SPEC_FILE}: 'additional_files' (../weights) is outside the cube folder"
    )

    _declare(folder, "additional_files: weights.zip\n")
    (folder / "weights.zip").write_bytes(b"")
    with pytest.raises(InvalidInput) as not_archive:
        load_cube_spec(folder)
    assert str(not_archive.value) == (
        f"{folder / SPEC_FILE}: 'additional_files' (weights.zip) must be a folder or a .tar.gz "
        "of the cube"
    )
