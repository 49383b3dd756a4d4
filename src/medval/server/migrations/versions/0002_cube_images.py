"""Cube images pinned by digest, and the runner kinds a benchmark supports.

``cubes.image_digest`` (the image's ID, ``sha256:`` + 64 hex) and
``cubes.image_archive_hash`` (the blob of its ``docker save`` archive) are both NULL for
a cube without an image. ``benchmarks.runners`` is a JSON list of runner kinds; NULL
(every benchmark registered before this revision) means every kind.

Columns are added and dropped in batch mode so that SQLite, which cannot alter a table
in place everywhere, gets the same schema as PostgreSQL.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cubes") as batch:
        batch.add_column(sa.Column("image_digest", sa.String(length=71), nullable=True))
        batch.add_column(sa.Column("image_archive_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("benchmarks") as batch:
        batch.add_column(sa.Column("runners", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("benchmarks") as batch:
        batch.drop_column("runners")
    with op.batch_alter_table("cubes") as batch:
        batch.drop_column("image_archive_hash")
        batch.drop_column("image_digest")
