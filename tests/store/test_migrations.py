"""The schema comes only from Alembic, and it matches the ORM models on every backend."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medval.server.settings import ServerSettings
from medval.server.store.database import create_database_engine
from medval.server.store.migrate import alembic_config, upgrade_database
from medval.server.store.models import Base

TABLES = {"users", "api_tokens", "cubes", "benchmarks", "datasets", "associations", "results"}


def test_upgrade_from_empty_matches_the_models(database_url: str, tmp_path: Path) -> None:
    settings = ServerSettings(data_dir=tmp_path, database_url=database_url)
    upgrade_database(settings)
    upgrade_database(settings)  # a second run is a no-op
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) >= TABLES
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table(database_url: str, tmp_path: Path) -> None:
    upgrade_database(ServerSettings(data_dir=tmp_path, database_url=database_url))
    command.downgrade(alembic_config(database_url), "base")
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_cube_images_revision_goes_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    upgrade_database(ServerSettings(data_dir=tmp_path, database_url=database_url))
    config = alembic_config(database_url)
    command.downgrade(config, "0001")
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("cubes")}
            assert "image_digest" not in columns and "archive_hash" in columns
            benchmark_columns = sa.inspect(connection).get_columns("benchmarks")
            assert "runners" not in {c["name"] for c in benchmark_columns}
        command.upgrade(config, "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
