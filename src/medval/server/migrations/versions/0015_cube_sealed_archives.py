"""A private model: its sealed archive's hash and how its key is released

Revision ID: 0015_cube_sealed_archives
Revises: 0014_cube_hub_pins
Create Date: 2026-12-06 03:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_cube_sealed_archives"
down_revision: str | None = "0014_cube_hub_pins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for every cube registered before: none was private.
    with op.batch_alter_table("cubes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cubes", schema=None) as batch_op:
        batch_op.drop_column("sealed")
