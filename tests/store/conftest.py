"""Store fixtures: a migrated file SQLite per test and a real PostgreSQL 15 per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.migrated import migrate, migrated_postgres_database
from tests.migrated import new_postgres_database as fresh_postgres_database

from medval.server.settings import ServerSettings
from medval.server.store.sql import SqlStore

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL 15 on 127.0.0.1; yields an admin URL to its server."""
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).is_file():
            pytest.fail(
                f"PostgreSQL 15 is required for the @postgres tests: {PG_BIN / tool} is missing "
                "(install postgresql-15, e.g. via scripts/system-deps.sh)"
            )
    root = Path(tempfile.mkdtemp(prefix="medval-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = str(PG_BIN / "pg_ctl")
    start = [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
    started = subprocess.run(_as_postgres(start), capture_output=True, text=True)
    if started.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else started.stderr
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {log[-2000:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend (not migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'medval.db'}"
    server: str = request.getfixturevalue("postgres_url")
    return fresh_postgres_database(server)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A store on a database at the newest schema (a copy of one migrated once:
    ``tests.migrated``)."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'medval.db'}"
        migrate(ServerSettings(data_dir=tmp_path, database_url=database_url))
    else:
        database_url = migrated_postgres_database(request.getfixturevalue("postgres_url"))
    sql_store = SqlStore.from_url(database_url)
    yield sql_store
    sql_store.close()
