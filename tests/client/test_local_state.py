"""The client's own files: credentials readable by the owner only, damaged files named."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from medval.client.settings import (
    ClientSettings,
    StoredLogin,
    forget_login,
    require_login,
    save_login,
)
from medval.client.workspace import LocalDataset, Workspace
from medval.core.documents import DatasetStatistics
from medval.core.errors import InvalidInput, NotAuthenticated, NotFound


def settings(tmp_path: Path) -> ClientSettings:
    return ClientSettings(home=tmp_path / "home")


def login(expires_in: timedelta) -> StoredLogin:
    return StoredLogin(
        server="http://x", username="a", token="t", expires_at=datetime.now(UTC) + expires_in
    )


def test_credentials_are_private_and_can_be_forgotten(tmp_path: Path) -> None:
    s = settings(tmp_path)
    save_login(s, login(timedelta(hours=1)))
    path = s.home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert require_login(s).token == "t"
    assert forget_login(s)
    with pytest.raises(NotAuthenticated, match="not logged in"):
        require_login(s)


def test_an_expired_session_says_how_to_log_in_again(tmp_path: Path) -> None:
    s = settings(tmp_path)
    save_login(s, login(timedelta(seconds=-1)))
    with pytest.raises(NotAuthenticated, match="has expired; run 'medval login'"):
        require_login(s)


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("MEDVAL_TASK_MEMORY_MB", "512")
    loaded = ClientSettings()
    assert loaded.home == tmp_path / "elsewhere"
    assert loaded.task_memory_mb == 512


def test_a_setting_given_wins_over_the_environment_read_in_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("medval_runner", "docker")
    monkeypatch.setenv("MEDVAL_NOT_A_SETTING", "ignored")
    loaded = ClientSettings(home=tmp_path / "given")
    assert (loaded.home, loaded.runner) == (tmp_path / "given", "docker")


def test_a_bad_setting_in_the_environment_is_refused_like_a_given_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDVAL_MIN_CELL_COUNT", "0")
    with pytest.raises(ValidationError, match="min_cell_count"):
        ClientSettings()


def dataset(name: str, server_id: int | None = None) -> LocalDataset:
    return LocalDataset(
        name=name, benchmark_id=1, data_preparator_id=1, data_preparator_hash="a" * 64,
        raw_data_path="/d", raw_labels_path="/l", data_hash="b" * 64,
        statistics=DatasetStatistics(n_cases=3), prepared_at=datetime.now(UTC),
        server_id=server_id,
    )  # fmt: skip


def test_the_workspace_keeps_datasets_by_name_and_server_id(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.save_dataset(dataset("site-a"))
    workspace.save_dataset(dataset("site-b", server_id=7))
    assert [d.name for d in workspace.datasets()] == ["site-a", "site-b"]
    found = workspace.dataset_by_server_id(7)
    assert found is not None and found.name == "site-b"
    assert not list(tmp_path.rglob(".dataset.json.*")), "no temporary files are left behind"
    with pytest.raises(NotFound, match="run 'medval dataset prepare'"):
        workspace.dataset("site-c")


def test_a_damaged_record_is_named_not_a_traceback(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.save_dataset(dataset("site-a"))
    (tmp_path / "datasets" / "site-a" / "dataset.json").write_text('{"name": 3')
    with pytest.raises(InvalidInput, match="is damaged"):
        workspace.dataset("site-a")
