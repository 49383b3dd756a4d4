"""A training cube: what its pyproject must say, its FAB built by Flower reproducibly on
a private copy, and a FAB that differs from its pin refused."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from medval.core.errors import HashMismatch, InvalidInput
from medval.training.app import build_fab, read_app, read_fab_app, unpack_fab, verify_fab
from medval.training.flower_env import FlowerInstall
from medval.training.training_run import PinnedFab, run_config_toml

from .conftest import LINAPP

PYPROJECT = (LINAPP / "pyproject.toml").read_text()


def _app_with(tmp_path: Path, pyproject: str) -> Path:
    directory = tmp_path / "linapp"
    shutil.copytree(LINAPP, directory)
    (directory / "pyproject.toml").write_text(pyproject)
    return directory


def test_the_test_app_is_read() -> None:
    app = read_app(LINAPP)
    assert (app.name, app.version, app.publisher) == ("linapp", "1.0.0", "medval")
    assert app.serverapp == "linapp.server_app:app"
    assert app.clientapp == "linapp.client_app:app"
    assert app.final_model == "final_model.npy"
    assert app.declared_keys == {
        "num-server-rounds",
        "strategy",
        "fraction-train",
        "min-nodes",
        "local-epochs",
        "seed",
        "lr",
    }


def test_a_directory_without_pyproject_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        read_app(tmp_path)
    assert str(error.value) == f"{tmp_path} is not a Flower app: it has no pyproject.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "[tool.flwr.app",
            "[tool.other.app",
            "not a Flower app: it has no [tool.flwr.app] table",
        ),
        (
            'clientapp = "linapp.client_app:app"\n',
            "",
            "[tool.flwr.app.components] names no clientapp; a training cube needs a ClientApp",
        ),
        (
            'serverapp = "linapp.server_app:app"\n',
            "",
            "[tool.flwr.app.components] names no serverapp; a training cube needs a ServerApp",
        ),
        (
            'final-model = "final_model.npy"\n',
            "",
            "no final-model in [tool.medval.training] (the file the ServerApp writes the "
            "final model to, in its working directory)",
        ),
        (
            'final-model = "final_model.npy"\n',
            'final-model = "../final_model.npy"\n',
            "final-model '../final_model.npy' must be a path inside the ServerApp's working "
            "directory",
        ),
        (
            "[tool.medval.training]\n",
            '[tool.flwr.federations]\ndefault = "local"\n\n[tool.medval.training]\n',
            "[tool.flwr.federations] is not allowed in a training cube (medval chooses where "
            "it runs; remove the table)",
        ),
    ],
)
def test_a_pyproject_lacking_what_medval_needs_is_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in PYPROJECT
    directory = _app_with(tmp_path, PYPROJECT.replace(old, new))
    with pytest.raises(InvalidInput) as error:
        read_app(directory)
    assert str(error.value) == f"{directory / 'pyproject.toml'}: {message}"


def test_a_pyproject_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    directory = _app_with(tmp_path, "[project\nname = 'x'\n")
    with pytest.raises(InvalidInput) as error:
        read_app(directory)
    assert str(error.value).startswith(f"{directory / 'pyproject.toml'}: not valid TOML (")


def test_a_fab_that_differs_by_one_byte_does_not_match(tmp_path: Path) -> None:
    fab = tmp_path / "app.fab"
    fab.write_bytes(b"PK\x03\x04 some bytes")
    pinned = hashlib.sha256(fab.read_bytes()).hexdigest()
    verify_fab(fab, pinned)
    fab.write_bytes(b"PK\x03\x04 some bytez")
    found = hashlib.sha256(fab.read_bytes()).hexdigest()
    with pytest.raises(HashMismatch) as error:
        verify_fab(fab, pinned)
    assert str(error.value) == (
        f"training cube app.fab does not match its registered hash (registered sha256 "
        f"{pinned[:12]}..., found {found[:12]}...)"
    )
    assert error.value.exit_code == 6


def test_a_fab_entry_outside_its_directory_is_refused(tmp_path: Path) -> None:
    fab = tmp_path / "evil.fab"
    with zipfile.ZipFile(fab, "w") as archive:
        archive.writestr("pyproject.toml", PYPROJECT)
        archive.writestr("../outside.py", "print('x')")
    with pytest.raises(InvalidInput) as error:
        unpack_fab(fab, tmp_path / "unpacked")
    assert str(error.value) == "evil.fab: entry '../outside.py' is not allowed"
    assert not (tmp_path / "outside.py").exists()


def test_something_that_is_no_fab_is_refused(tmp_path: Path) -> None:
    fab = tmp_path / "notes.fab"
    fab.write_text("not a zip")
    with pytest.raises(InvalidInput) as error:
        read_fab_app(fab)
    assert str(error.value) == "notes.fab: not a Flower app bundle (FAB)"


def test_the_run_configuration_file_reads_back_as_the_plan_set_it() -> None:
    config: dict[str, bool | int | float | str] = {
        "num-server-rounds": 3,
        "strategy": 'Fed"Avg\\',
        "fraction-train": 0.5,
        "dp-noise-multiplier": 1e-05,
        "secure": True,
        "naïve": "ü",
    }
    assert tomllib.loads(run_config_toml(config)) == config


@pytest.mark.flower
def test_flower_builds_the_same_fab_twice_without_touching_the_app(
    flower: FlowerInstall, linapp_fab: PinnedFab, tmp_path: Path
) -> None:
    directory = _app_with(tmp_path, PYPROJECT)
    before = {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}
    built = build_fab(directory, tmp_path / "out", flower)
    assert built.sha256 == linapp_fab.sha256
    assert built.sha256 == hashlib.sha256(built.path.read_bytes()).hexdigest()
    assert built.path.name == f"medval.linapp.1-0-0.{built.sha256[:8]}.fab"
    after = {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}
    assert after == before
    assert read_fab_app(built.path) == read_app(directory)
