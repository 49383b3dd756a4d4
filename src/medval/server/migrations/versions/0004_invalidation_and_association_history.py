"""Invalidation of cubes, benchmarks and datasets; the history of each association.

``invalidated_at`` and ``invalidated_by_id`` (on ``cubes``, ``benchmarks``,
``datasets``) are NULL while the entity is valid. ``association_events`` keeps every
move of an association (requested = ``pending``, approved, rejected, revoked) with who
and when; associations that exist before this revision get their history from their
own columns (the request, then the decision if there was one).

Columns are added and dropped in batch mode so that SQLite, which cannot alter a table
in place everywhere, gets the same schema as PostgreSQL.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVALIDATABLE = ("benchmarks", "cubes", "datasets")


def upgrade() -> None:
    op.create_table(
        "association_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "revoked",
                name="approvalstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_association_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_association_events_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association_events")),
    )
    op.create_index(
        op.f("ix_association_events_association_id"),
        "association_events",
        ["association_id"],
        unique=False,
    )
    # The history so far: each request, then its decision.
    op.execute(
        "INSERT INTO association_events (association_id, status, actor_id, at) "
        "SELECT id, 'pending', initiated_by_id, created_at FROM associations ORDER BY id"
    )
    op.execute(
        "INSERT INTO association_events (association_id, status, actor_id, at) "
        "SELECT id, status, decided_by_id, decided_at FROM associations "
        "WHERE decided_by_id IS NOT NULL AND decided_at IS NOT NULL ORDER BY id"
    )
    for table in INVALIDATABLE:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("invalidated_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("invalidated_by_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                op.f(f"fk_{table}_invalidated_by_id_users"), "users", ["invalidated_by_id"], ["id"]
            )


def downgrade() -> None:
    for table in reversed(INVALIDATABLE):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_invalidated_by_id_users"), type_="foreignkey")
            batch.drop_column("invalidated_by_id")
            batch.drop_column("invalidated_at")
    op.drop_index(op.f("ix_association_events_association_id"), table_name="association_events")
    op.drop_table("association_events")
