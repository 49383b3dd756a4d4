"""A benchmark's results revision: moves with every change of what its leaderboard shows

Revision ID: 0013_results_revision
Revises: 0012_declarations
Create Date: 2026-12-05 11:33:28.955182
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_results_revision"
down_revision: str | None = "0012_declarations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing benchmarks start at 0: no server process keeps a board yet when it runs.
    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("results_revision", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.drop_column("results_revision")
