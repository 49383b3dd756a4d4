"""The server's settings on both stores, for an API test module that runs every test on
SQLite and on PostgreSQL: ``from .both_stores import postgres_url, settings`` makes its
``settings`` (and the ``api`` and ``world`` built on them) run twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.migrated import migrate, migrated_postgres_database
from tests.store.conftest import postgres_url

from medval.server.settings import ServerSettings

__all__ = ["postgres_url", "settings"]  # fixtures, imported into the test modules


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> ServerSettings:
    database_url = ""
    if request.param == "postgres":
        database_url = migrated_postgres_database(request.getfixturevalue("postgres_url"))
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        database_url=database_url,
        password_hash_profile="test_only_cheapest",
        max_blob_bytes=1024,
    )
    if request.param == "sqlite":
        migrate(settings)
    return settings
