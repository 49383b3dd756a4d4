"""A machine's shared folder of cubes' Python environments (``MEDVAL_ENVIRONMENTS``): used
by every workspace that names it, made if absent, refused unless it is the account's own
and nobody else may write to it, listed by ``medval storage`` and never cleaned by it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from medval.client.settings import ClientSettings
from medval.client.storage import Area, usage
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput


def test_workspaces_that_name_it_share_it_and_build_nothing_of_their_own(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "machine" / "environments"
    first = Workspace.of(ClientSettings(home=tmp_path / "a", environments=shared))
    second = Workspace.of(ClientSettings(home=tmp_path / "b", environments=shared))
    assert first.environments_dir == second.environments_dir == shared
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the sandbox's user reads it
    assert Workspace.of(ClientSettings(home=tmp_path / "c")).environments_dir == (
        tmp_path / "c" / "environments"
    )
    assert not (tmp_path / "a" / "environments").exists()


def test_the_setting_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_ENVIRONMENTS", str(tmp_path / "shared"))
    assert ClientSettings(home=tmp_path).environments == tmp_path / "shared"


def test_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "environments"
    shared.mkdir()
    shared.chmod(0o775)
    with pytest.raises(InvalidInput) as refused:
        _ = Workspace(tmp_path / "home", shared).environments_dir
    assert str(refused.value) == (
        f"the shared environments folder {shared} (MEDVAL_ENVIRONMENTS) may be written by "
        f"others (mode 775): run 'chmod go-w {shared}' first"
    )


def test_another_users_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "environments"
    shared.mkdir(mode=0o755)
    owner = shared.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)  # as another account sees it
    with pytest.raises(InvalidInput) as refused:
        _ = Workspace(tmp_path / "home", shared).environments_dir
    assert str(refused.value) == (
        f"the shared environments folder {shared} (MEDVAL_ENVIRONMENTS) belongs to another "
        "user: medval builds and uses environments only in a folder of yours"
    )


def test_a_file_in_its_place_is_refused_and_kept(tmp_path: Path) -> None:
    shared = tmp_path / "environments"
    shared.write_text("notes")
    with pytest.raises(InvalidInput) as refused:
        _ = Workspace(tmp_path / "home", shared).environments_dir
    assert str(refused.value) == (
        f"the shared environments folder {shared} (MEDVAL_ENVIRONMENTS) is not a folder"
    )
    assert shared.read_text() == "notes"


def _medval(home: Path, shared: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medval", "--home", str(home), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "300", "MEDVAL_ENVIRONMENTS": str(shared)},
    )


def test_storage_lists_it_and_never_cleans_it(tmp_path: Path) -> None:
    home, shared = tmp_path / "home", tmp_path / "shared"
    (shared / "key" / "bin").mkdir(parents=True)
    (shared / "key" / "pyvenv.cfg").write_bytes(b"z" * 1024)
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "task.log").write_text("ran\n")
    (row,) = [row for row in usage(Workspace(home, shared)) if row.area is Area.ENVIRONMENTS]
    assert (row.path, row.bytes, row.entries) == (shared, 1024, 1)

    listed = _medval(home, shared, "storage", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (environments,) = [r for r in json.loads(listed.stdout) if r["area"] == "environments"]
    assert environments["path"] == str(shared)
    assert environments["holds"].endswith(
        "; this machine's, shared with other workspaces (MEDVAL_ENVIRONMENTS): never cleaned"
    )

    asked = _medval(home, shared, "storage", "clean", "--area", "environments", "--yes")
    assert asked.returncode == 2
    assert asked.stderr.strip() == (
        f"error: the environments are this machine's, in {shared} (MEDVAL_ENVIRONMENTS), "
        "shared with other workspaces: medval storage clean leaves them; remove that folder "
        "yourself when no workspace needs it"
    )

    everything = _medval(home, shared, "storage", "clean", "--yes")
    assert everything.returncode == 0, everything.stderr
    assert everything.stderr.splitlines()[-1] == (
        f"left this machine's shared environments in {shared} (MEDVAL_ENVIRONMENTS): "
        "other workspaces use them"
    )
    assert not (home / "logs").exists()
    assert (shared / "key" / "pyvenv.cfg").stat().st_size == 1024
