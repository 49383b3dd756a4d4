"""Private models' keys: each site's encryption public keys, and model keys wrapped to them

``encryption_keys`` holds each account's X25519 public keys (one current, the retired
ones kept). ``wrapped_model_keys`` holds a private model's key wrapped to one recipient's
encryption key, or a mark that the model's owner withholds it (no key). Neither holds a
model key in clear: only the recipient's private key, on its own machine, opens one.

Revision ID: 0016_model_keys
Revises: 0015_cube_sealed_archives
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_model_keys"
down_revision: str | None = "0015_cube_sealed_archives"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encryption_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_encryption_keys_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encryption_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_encryption_keys_key_id")),
    )
    with op.batch_alter_table("encryption_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encryption_keys_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "wrapped_model_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cube_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("encryption_key_id", sa.Integer(), nullable=True),
        sa.Column("wrapped_key", sa.String(length=108), nullable=True),
        sa.Column("withheld", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cube_id"],
            ["cubes.id"],
            name=op.f("fk_wrapped_model_keys_cube_id_cubes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["encryption_key_id"],
            ["encryption_keys.id"],
            name=op.f("fk_wrapped_model_keys_encryption_key_id_encryption_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_wrapped_model_keys_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapped_model_keys")),
        sa.UniqueConstraint(
            "cube_id", "recipient_id", name=op.f("uq_wrapped_model_keys_cube_id_recipient_id")
        ),
    )
    with op.batch_alter_table("wrapped_model_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wrapped_model_keys_cube_id"), ["cube_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wrapped_model_keys_recipient_id"), ["recipient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wrapped_model_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrapped_model_keys_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_wrapped_model_keys_cube_id"))
    op.drop_table("wrapped_model_keys")

    with op.batch_alter_table("encryption_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encryption_keys_owner_id"))
    op.drop_table("encryption_keys")
