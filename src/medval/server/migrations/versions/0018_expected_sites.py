"""A committee's expected sites: ``expected_sites``, and ``users.institution``

``users.institution`` is the institution an admin put an account in (NULL for every
account so far). ``expected_sites`` holds each account or institution a benchmark's
committee expects; a dataset association requested by one is approved at once.

Revision ID: 0018_expected_sites
Revises: 0017_phases
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_expected_sites"
down_revision: str | None = "0017_phases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution", sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_institution"), ["institution"], unique=False)

    op.create_table(
        "expected_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("user", "institution", name="sitekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("institution", sa.String(length=120), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_expected_sites_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmarks.id"],
            name=op.f("fk_expected_sites_benchmark_id_benchmarks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_expected_sites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expected_sites")),
        sa.UniqueConstraint(
            "benchmark_id", "user_id", name=op.f("uq_expected_sites_benchmark_id_user_id")
        ),
        sa.UniqueConstraint(
            "benchmark_id",
            "institution",
            name=op.f("uq_expected_sites_benchmark_id_institution"),
        ),
    )
    with op.batch_alter_table("expected_sites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_expected_sites_benchmark_id"), ["benchmark_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("expected_sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expected_sites_benchmark_id"))
    op.drop_table("expected_sites")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_institution"))
        batch_op.drop_column("institution")
