"""Preparation reports: what a site sent of how far its preparation workflow got

``preparation_reports`` holds, per report a data owner chose to send, the counts of its
preparation workflow per step and state (``core.preparation_report``): counts only, small
cells withheld (NULL), never a case's name.

Revision ID: 0019_preparation_reports
Revises: 0018_expected_sites
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_preparation_reports"
down_revision: str | None = "0018_expected_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preparation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=80), nullable=False),
        sa.Column("min_cell_count", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=True),
        sa.Column("excluded", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("withheld", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmarks.id"],
            name=op.f("fk_preparation_reports_benchmark_id_benchmarks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_preparation_reports_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preparation_reports")),
    )
    with op.batch_alter_table("preparation_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preparation_reports_benchmark_id"), ["benchmark_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_preparation_reports_owner_id"), ["owner_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("preparation_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preparation_reports_owner_id"))
        batch_op.drop_index(batch_op.f("ix_preparation_reports_benchmark_id"))
    op.drop_table("preparation_reports")
