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

TABLES = {
    "users",
    "api_tokens",
    "cubes",
    "benchmarks",
    "datasets",
    "associations",
    "association_events",
    "results",
}


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


def test_invalidation_revision_gives_old_associations_their_history(
    database_url: str, tmp_path: Path
) -> None:
    """Associations made before revision 0004 get their request and decision as history;
    down to 0002 and up again leaves the models' schema."""
    config = alembic_config(database_url)
    command.upgrade(config, "0002")
    engine = create_database_engine(database_url)
    at, decided = "2024-05-01 09:00:00", "2024-05-01 10:00:00"
    try:
        with engine.begin() as connection:
            for user_id, name in ((1, "alice"), (2, "bob")):
                connection.execute(
                    sa.text(
                        "INSERT INTO users (id, username, password_hash, is_admin, created_at) "
                        "VALUES (:id, :name, 'h', false, :at)"
                    ),
                    {"id": user_id, "name": name, "at": at},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO cubes (id, name, kind, archive_hash, owner_id, stage, "
                    "created_at) VALUES (1, 'm', 'model', :h, 1, 'operation', :at)"
                ),
                {"h": "a" * 64, "at": at},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO benchmarks (id, name, description, docs_url, "
                    "data_preparator_id, reference_model_id, evaluator_id, demo_data_hash, "
                    "release_policy, approval, stage, created_at, owner_id) VALUES (1, 'b', '', "
                    "'', 1, 1, 1, :h, 'public', 'approved', 'operation', :at, 2)"
                ),
                {"h": "a" * 64, "at": at},
            )
            for association_id, status, decided_by, decided_at in (
                (1, "approved", 2, decided),
                (2, "pending", None, None),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO associations (id, benchmark_id, kind, entity_id, status, "
                        "initiated_by_id, decided_by_id, created_at, decided_at) VALUES "
                        "(:id, 1, 'model', :id, :status, 1, :by, :at, :decided_at)"
                    ),
                    {
                        "id": association_id,
                        "status": status,
                        "by": decided_by,
                        "at": at,
                        "decided_at": decided_at,
                    },
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            events = connection.execute(
                sa.text(
                    "SELECT association_id, status, actor_id FROM association_events "
                    "ORDER BY association_id, id"
                )
            ).all()
        assert [tuple(row) for row in events] == [
            (1, "pending", 1),
            (1, "approved", 2),
            (2, "pending", 1),
        ]
        command.downgrade(config, "0002")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert "association_events" not in inspector.get_table_names()
            assert "invalidated_at" not in {c["name"] for c in inspector.get_columns("cubes")}
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
    following = f"{int((head or '0').split('_', 1)[0]) + 1:04d}"
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
