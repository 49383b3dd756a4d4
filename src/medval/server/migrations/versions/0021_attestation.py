"""Attested key release (issue 16): a private model's pins, and nonces issued to sites

``attestation_pins`` holds what a private model's owner pins for ``attested`` release of
its key: the runner measurement and launch policy that may hold it, the Ed25519 public
key that signs the evidence, and how old evidence may be (one row per model).
``attestation_nonces`` holds the nonces issued to sites for their evidence, each for one
model and one site, single use (``spent_at``), until it expires. Downgrading drops both.

Revision ID: 0021_attestation
Revises: 0020_phase_quotas
Create Date: 2026-12-07 05:52:47.954059
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_attestation"
down_revision: str | None = "0020_phase_quotas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestation_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("cube_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cube_id"],
            ["cubes.id"],
            name=op.f("fk_attestation_nonces_cube_id_cubes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_attestation_nonces_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation_nonces")),
        sa.UniqueConstraint("nonce", name=op.f("uq_attestation_nonces_nonce")),
    )
    with op.batch_alter_table("attestation_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attestation_nonces_cube_id"), ["cube_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attestation_nonces_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attestation_nonces_recipient_id"), ["recipient_id"], unique=False
        )

    op.create_table(
        "attestation_pins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cube_id", sa.Integer(), nullable=False),
        sa.Column("measurement", sa.String(length=128), nullable=False),
        sa.Column("launch_policy", sa.String(length=200), nullable=False),
        sa.Column("signing_public_key", sa.String(length=44), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cube_id"],
            ["cubes.id"],
            name=op.f("fk_attestation_pins_cube_id_cubes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation_pins")),
        sa.UniqueConstraint("cube_id", name=op.f("uq_attestation_pins_cube_id")),
    )


def downgrade() -> None:
    op.drop_table("attestation_pins")
    with op.batch_alter_table("attestation_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_nonces_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_attestation_nonces_expires_at"))
        batch_op.drop_index(batch_op.f("ix_attestation_nonces_cube_id"))

    op.drop_table("attestation_nonces")
