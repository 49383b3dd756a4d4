"""Alembic environment: migrates the database named by the caller (or the settings).

Run programmatically by ``medval.server.store.migrate.upgrade_database``; developers may
also run ``alembic -c src/medval/server/migrations/alembic.ini revision --autogenerate``.
"""

from __future__ import annotations

from alembic import context

from medval.server.settings import ServerSettings
from medval.server.store.database import create_database_engine
from medval.server.store.models import Base

config = context.config
url = config.attributes.get("database_url") or ServerSettings().database_url
engine = create_database_engine(url)

try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
