"""Alembic environment: migrates the database named by the caller (or the settings).

Run programmatically by ``medval.server.store.migrate`` (``upgrade_database``, and
``new_revision`` behind ``make migration NAME=...``, which autogenerates the next
revision from the ORM models).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator

from medval.server.settings import ServerSettings
from medval.server.store.database import create_database_engine
from medval.server.store.models import Base


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Our column types are written as the plain SQLAlchemy type they store, so that a
    migration never imports the models and never changes when they do."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl_instance!r}"
    return False


config = context.config
url = config.attributes.get("database_url") or ServerSettings().database_url
engine = create_database_engine(url)

try:
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced,
            # dropping a table that other rows refer to fails. SQLite's own procedure for
            # such changes: foreign keys off outside the transaction, checked after it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=config.attributes.get("target_metadata", Base.metadata),
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=True,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
finally:
    engine.dispose()
