"""Revision 0010_blob_owners: blobs that entities already use get their owners' accounts."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from medval.server.store.database import create_database_engine
from medval.server.store.migrate import alembic_config

AT = "2024-05-01 09:00:00"


def test_blobs_in_use_get_the_owners_of_what_uses_them(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0004")
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            for user_id, name in ((1, "alice"), (2, "bob")):
                connection.execute(
                    sa.text(
                        "INSERT INTO users (id, username, password_hash, is_admin, created_at) "
                        "VALUES (:id, :name, 'h', false, :at)"
                    ),
                    {"id": user_id, "name": name, "at": AT},
                )
            for cube_id, archive, image in ((1, "a", None), (2, "b", "c"), (3, "a", None)):
                connection.execute(
                    sa.text(
                        "INSERT INTO cubes (id, name, kind, archive_hash, image_archive_hash, "
                        "owner_id, stage, created_at) "
                        "VALUES (:id, :name, 'model', :h, :image, 1, 'operation', :at)"
                    ),
                    {
                        "id": cube_id,
                        "name": f"m{cube_id}",
                        "h": archive * 64,
                        "image": image * 64 if image else None,
                        "at": AT,
                    },
                )
            connection.execute(
                sa.text(
                    "INSERT INTO benchmarks (id, name, description, docs_url, "
                    "data_preparator_id, reference_model_id, evaluator_id, demo_data_hash, "
                    "release_policy, approval, stage, created_at, owner_id) VALUES (1, 'b', '', "
                    "'', 1, 1, 1, :h, 'public', 'approved', 'operation', :at, 2)"
                ),
                {"h": "a" * 64, "at": AT},
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            owners = connection.execute(
                sa.text("SELECT sha256, user_id FROM blob_owners ORDER BY sha256, user_id")
            ).all()
        assert [(sha[0], user) for sha, user in owners] == [("a", 1), ("a", 2), ("b", 1), ("c", 1)]
        command.downgrade(config, "0004")
        with engine.connect() as connection:
            assert "blob_owners" not in sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()
