"""A phase's quotas, the entry that counts, and the committee's priorities (issue 19)

``phases`` gains its quotas, ``max_models_per_owner`` and
``max_executions_per_site_per_day`` (NULL: no limit, as every phase so far), and
``model_priorities``, the committee's order of its models (a JSON list of model ids; NULL:
none). ``counting_entries`` holds each model owner's choice of its entry that counts on a
phase's board (none: the entry approved first counts). Downgrading drops them.

Revision ID: 0020_phase_quotas
Revises: 0019_preparation_reports
Create Date: 2026-12-06 07:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_phase_quotas"
down_revision: str | None = "0019_preparation_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_models_per_owner", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("max_executions_per_site_per_day", sa.Integer(), nullable=True)
        )
        batch_op.add_column(sa.Column("model_priorities", sa.JSON(), nullable=True))
    op.create_table(
        "counting_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phase_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["cubes.id"], name=op.f("fk_counting_entries_model_id_cubes")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_counting_entries_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["phases.id"],
            name=op.f("fk_counting_entries_phase_id_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counting_entries")),
        sa.UniqueConstraint(
            "phase_id", "owner_id", name=op.f("uq_counting_entries_phase_id_owner_id")
        ),
    )
    with op.batch_alter_table("counting_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counting_entries_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_counting_entries_phase_id"), ["phase_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("counting_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counting_entries_phase_id"))
        batch_op.drop_index(batch_op.f("ix_counting_entries_owner_id"))
    op.drop_table("counting_entries")
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.drop_column("model_priorities")
        batch_op.drop_column("max_executions_per_site_per_day")
        batch_op.drop_column("max_models_per_owner")
