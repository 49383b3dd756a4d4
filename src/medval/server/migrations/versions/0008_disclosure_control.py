"""A benchmark's disclosure control: its minimum cell size and minimum number of sites.

``min_cell_count`` (k): counts below it never leave a site, and the server refuses a
statistics or results document holding one (core.small_cells). ``min_sites``: below it,
no pooled figure is released (services.release). Benchmarks registered before this
revision get the defaults, 10 and 3.

Revision ID: 0008_disclosure_control
Revises: 0007_account_doors
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_disclosure_control"
down_revision: str | None = "0007_account_doors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("min_cell_count", sa.Integer(), server_default="10", nullable=False)
        )
        batch_op.add_column(
            sa.Column("min_sites", sa.Integer(), server_default="3", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.drop_column("min_sites")
        batch_op.drop_column("min_cell_count")
