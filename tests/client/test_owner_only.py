"""What only its owner may read is 0600 (files) and 0700 (folders), whatever the umask:
the credential file (a new one and one left readable), the local results and the
predictions a cube wrote, the server's SQLite database and its WAL files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from medval.client.settings import ClientSettings, StoredLogin, load_login, save_login
from medval.client.workspace import LocalResult, Workspace
from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.server.store.database import create_database_engine


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _login() -> StoredLogin:
    return StoredLogin(
        server="http://x", username="a", token="t", expires_at=datetime.now(UTC) + timedelta(1)
    )


def test_a_new_credential_file_is_owner_only(tmp_path: Path, umask: int) -> None:
    settings = ClientSettings(home=tmp_path / "home")
    save_login(settings, _login())
    assert mode(settings.home / "credentials.json") == 0o600
    assert mode(settings.home) == 0o700  # the client folder a first login makes


def test_a_client_folder_the_user_made_is_left_as_it_is(tmp_path: Path, umask: int) -> None:
    settings = ClientSettings(home=tmp_path / "home")
    settings.home.mkdir(mode=0o750)
    settings.home.chmod(0o750)  # theirs to choose; medval doctor warns about it
    save_login(settings, _login())
    assert mode(settings.home) == 0o750


def test_a_credential_file_left_readable_is_tightened(tmp_path: Path, umask: int) -> None:
    settings = ClientSettings(home=tmp_path / "home")
    path = settings.home / "credentials.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    save_login(settings, _login())  # logging in again rewrites it
    assert mode(path) == 0o600

    path.chmod(0o666)  # made readable by hand, or copied from elsewhere
    assert load_login(settings) is not None
    assert mode(path) == 0o600


def _result() -> LocalResult:
    return LocalResult(
        benchmark_id=1,
        dataset_id=3,
        dataset="site",
        model_id=2,
        model="model",
        document=ResultDocument(n_cases=20, metrics={"auroc": MetricValue(value=0.7)}),
        provenance=Provenance(
            dataset_hash="a", data_preparator_hash="b", model_hash="c", evaluator_hash="d"
        ),
        executed_at=datetime.now(UTC),
    )


def test_results_and_predictions_are_owner_only(tmp_path: Path, umask: int) -> None:
    workspace = Workspace(tmp_path / "home")
    result = _result()
    folder = workspace.result_folder(result.key)
    # What a cube leaves: folders and files made with the process's umask, or wider.
    predictions = folder / "predictions" / "per-case"
    predictions.mkdir(parents=True)
    (predictions / "cases.csv").write_text("id,p\n1,0.3\n")
    (predictions / "cases.csv").chmod(0o666)
    (folder / "output").mkdir(mode=0o777)
    (folder / "output" / "results.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not medval's")
    elsewhere.chmod(0o644)
    os.symlink(elsewhere, folder / "output" / "link")

    workspace.save_result(result)

    assert mode(workspace.results_dir) == 0o700
    assert mode(folder) == 0o700
    for path in (folder / "predictions", predictions, folder / "output"):
        assert mode(path) == 0o700, path
    for path in (folder / "result.json", predictions / "cases.csv", folder / "output/results.json"):
        assert mode(path) == 0o600, path
    assert mode(elsewhere) == 0o644  # a link is never followed


def test_the_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path, umask: int) -> None:
    database = tmp_path / "server" / "medval.db"
    engine = create_database_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        wal = [Path(f"{database}{end}") for end in ("-wal", "-shm")]
        assert all(path.exists() for path in wal)
        assert [mode(path) for path in [database, *wal]] == [0o600, 0o600, 0o600]
    engine.dispose()


def test_a_database_left_readable_is_tightened_when_the_server_starts(
    tmp_path: Path, umask: int
) -> None:
    database = tmp_path / "medval.db"
    engine = create_database_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            path.chmod(0o644)
    create_database_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600
