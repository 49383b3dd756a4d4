"""A database at the newest schema for a test, copied from one migrated once per process.

Running the migrations from empty for each of the ~1,500 tests that need a store cost
minutes of ``make test``; each test now starts from a copy of a database that the same
migrations (``upgrade_database``) made once: SQLite's file copied with its backup API,
PostgreSQL's made by ``CREATE DATABASE ... TEMPLATE``. ``tests/store/test_migrations.py``
still runs the migrations from empty, on both backends, and checks what they make.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from functools import cache
from pathlib import Path

import sqlalchemy as sa

from medval.server.settings import ServerSettings
from medval.server.store.database import normalize_url
from medval.server.store.migrate import upgrade_database


def migrate(settings: ServerSettings) -> None:
    """Bring ``settings``' database, new and empty, to the newest schema: SQLite as a copy
    of the process's migrated template; any other backend by the migrations themselves."""
    url = normalize_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        upgrade_database(settings)
        return
    target = Path(url.database)
    target.parent.mkdir(parents=True, exist_ok=True)
    source, copy = sqlite3.connect(_sqlite_template()), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


@cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="medval-migrated-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "medval.db"
    upgrade_database(ServerSettings(data_dir=folder, database_url=f"sqlite:///{path}"))
    return path


def new_postgres_database(server_url: str, template: str | None = None) -> str:
    """A new database on the PostgreSQL server ``server_url`` (an admin URL), empty or a
    copy of ``template``; returns its URL."""
    name = f"medval_{uuid.uuid4().hex[:12]}"
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    engine = sa.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def migrated_postgres_database(server_url: str) -> str:
    """A new database at the newest schema on the PostgreSQL server ``server_url``."""
    return new_postgres_database(server_url, template=_postgres_template(server_url))


@cache
def _postgres_template(server_url: str) -> str:
    url = new_postgres_database(server_url)
    # upgrade_database disposes of its engine: no session stays open on the template,
    # which CREATE DATABASE ... TEMPLATE requires.
    upgrade_database(ServerSettings(data_dir=Path(tempfile.gettempdir()), database_url=url))
    return url.rsplit("/", 1)[1]
