"""Failed executions are results too: a status, a one-line reason, when it ran.

``results.status`` is ``succeeded`` (every result uploaded before this revision) or
``failed``; a failed result has a ``failure`` (medval's one-line reason) and no
``document`` (no metrics), so ``document`` becomes nullable. ``executed_at`` is when the
data owner's client ran it (NULL for results uploaded before this revision).

Columns are added and altered in batch mode so that SQLite gets the same schema as
PostgreSQL. Downgrading deletes the failed results: the older schema cannot hold them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum("succeeded", "failed", name="executionstatus", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("status", STATUS, server_default="succeeded", nullable=False))
        batch.add_column(sa.Column("failure", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("document", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM results WHERE status = 'failed'")
    with op.batch_alter_table("results") as batch:
        batch.alter_column("document", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("executed_at")
        batch.drop_column("failure")
        batch.drop_column("status")
