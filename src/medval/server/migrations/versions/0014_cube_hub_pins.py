"""A model cube registered from a hub repository: its repo, commit and every file's hash

Revision ID: 0014_cube_hub_pins
Revises: 0013_results_revision
Create Date: 2026-12-05 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_cube_hub_pins"
down_revision: str | None = "0013_results_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for every cube registered before: none came from a hub.
    with op.batch_alter_table("cubes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cubes", schema=None) as batch_op:
        batch_op.drop_column("hub")
