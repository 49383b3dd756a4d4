"""Blob owners: who uploaded each blob whole, and who started each upload held in part.

``blob_owners`` has one row per (blob, account that uploaded it whole); ``blob_uploads``
one row per blob whose upload was started, naming who started it last (only they may
continue it). Blobs that entities already use get, as owners, the owners of those
entities (a cube's archive and image archive, a benchmark's demo data) as of their
registration. A blob that nothing references yet gets no owner: only admins can read it
until its uploader sends it again.

Revision ID: 0010_blob_owners
Revises: 0009_signing
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_blob_owners"
down_revision: str | None = "0009_signing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USERS = "users.id"

_BACKFILL = """
INSERT INTO blob_owners (sha256, user_id, uploaded_at)
SELECT sha256, owner_id, MIN(created_at) FROM (
    SELECT archive_hash AS sha256, owner_id, created_at FROM cubes
    UNION ALL
    SELECT image_archive_hash, owner_id, created_at FROM cubes
        WHERE image_archive_hash IS NOT NULL
    UNION ALL
    SELECT demo_data_hash, owner_id, created_at FROM benchmarks
) AS used
GROUP BY sha256, owner_id
"""


def upgrade() -> None:
    op.create_table(
        "blob_owners",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], [_USERS], name=op.f("fk_blob_owners_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sha256", "user_id", name=op.f("pk_blob_owners")),
    )
    op.create_table(
        "blob_uploads",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], [_USERS], name=op.f("fk_blob_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blob_uploads")),
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_table("blob_uploads")
    op.drop_table("blob_owners")
