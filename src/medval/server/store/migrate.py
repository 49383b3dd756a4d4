"""Schema migrations, run programmatically: the only way the schema is made or changed.

The ORM models (``models``) are the one persistent shape; a migration is generated from
them (``new_revision``, ``make migration NAME=...``), then reviewed and committed. A test
checks on SQLite and on PostgreSQL that the migrations produce exactly the models.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from medval.server.settings import ServerSettings
from medval.server.store.database import normalize_url, reaching_database

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(
    database_url: str,
    target_metadata: MetaData | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> Config:
    """An Alembic config pointing at our migrations and the given database.

    The URL travels in ``attributes`` rather than the ini option, because configparser
    would read a ``%`` in a password as interpolation. ``target_metadata`` (the ORM
    models' by default) is what autogenerate compares the database with.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    if target_metadata is not None:
        config.attributes["target_metadata"] = target_metadata
    return config


def upgrade_database(settings: ServerSettings) -> None:
    """Bring the database to the newest schema (creating it from empty if need be)."""
    url = normalize_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    with reaching_database(settings.database_url):
        command.upgrade(alembic_config(settings.database_url), "head")


def new_revision(
    message: str,
    target_metadata: MetaData | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> Path:
    """Write the next migration (``0003_<message>.py``, ...): what the models have that
    the migrations so far do not make, found by Alembic's autogenerate on a scratch
    SQLite database at head. Review it before committing (a new NOT NULL column on a
    table with rows needs a ``server_default``, a renamed column is seen as drop + add).
    """
    with tempfile.TemporaryDirectory(prefix="medval-migration-") as scratch:
        config = alembic_config(
            f"sqlite:///{Path(scratch) / 'head.db'}", target_metadata, script_location
        )
        command.upgrade(config, "head")
        head = ScriptDirectory.from_config(config).get_current_head()
        # A revision is numbered ("0004") or numbered and named ("0005_audit_trail").
        rev_id = f"{int((head or '0').split('_')[0]) + 1:04d}"
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    return next((script_location / "versions").glob(f"{rev_id}_*.py"))
