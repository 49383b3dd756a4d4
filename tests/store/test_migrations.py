"""The schema comes only from Alembic, and it matches the ORM models on every backend.

The ORM models are the one persistent shape: a migration is generated from them
(``new_revision``) and these tests keep the two from drifting apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from medval.server.settings import ServerSettings
from medval.server.store.column_types import UtcDateTime
from medval.server.store.database import create_database_engine
from medval.server.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    new_revision,
    upgrade_database,
)
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


def test_alembic_check_finds_nothing_left_to_generate(database_url: str, tmp_path: Path) -> None:
    """The check a developer runs, with the migration environment's own settings."""
    upgrade_database(ServerSettings(data_dir=tmp_path, database_url=database_url))
    command.check(alembic_config(database_url))


def _models_with_a_new_cube_column() -> sa.MetaData:
    metadata = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["cubes"].append_column(
        sa.Column("shape_probe", sa.Text(), nullable=False, server_default="")
    )
    return metadata


def test_a_column_the_migrations_lack_is_seen(database_url: str, tmp_path: Path) -> None:
    """The comparison above is not vacuous: a model column with no migration shows."""
    upgrade_database(ServerSettings(data_dir=tmp_path, database_url=database_url))
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, _models_with_a_new_cube_column())
    finally:
        engine.dispose()
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "cubes", "shape_probe")]


def test_a_generated_revision_makes_the_models(database_url: str, tmp_path: Path) -> None:
    """``make migration``: the next revision, numbered, in plain SQLAlchemy types, and
    upgrading to it gives exactly the changed models, on every backend."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    models = _models_with_a_new_cube_column()
    models.tables["cubes"].append_column(sa.Column("reviewed_at", UtcDateTime(), nullable=True))
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    following = f"{int(head or 0) + 1:04d}"
    written = new_revision("shape probe", models, scripts)
    assert written.name == f"{following}_shape_probe.py"
    source = written.read_text()
    assert f"down_revision: str | None = {head!r}" in source
    assert "add_column(sa.Column('shape_probe', sa.Text()" in source
    assert "sa.Column('reviewed_at', sa.DateTime(timezone=True)" in source
    assert "medval" not in source  # no migration imports the models
    config = alembic_config(database_url, models, scripts)
    command.upgrade(config, "head")
    command.check(config)
