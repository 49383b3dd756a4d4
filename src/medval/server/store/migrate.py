"""Schema migrations, run programmatically: the only way the schema is made or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from medval.server.settings import ServerSettings
from medval.server.store.database import normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database.

    The URL travels in ``attributes`` rather than the ini option, because configparser
    would read a ``%`` in a password as interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(settings: ServerSettings) -> None:
    """Bring the database to the newest schema (creating it from empty if need be)."""
    url = normalize_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings.database_url), "head")
