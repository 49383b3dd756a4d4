"""Data policies (issue 10): the membership agreement, auto-approval, a dataset's terms.

``benchmarks.agreement`` (NULL: none required) and ``benchmarks.auto_approval`` (NULL:
never) are JSON documents; ``agreement_acceptances`` records who accepted which
agreement, by hash; ``associations.policy`` (NULL: the default policy) is a data owner's
terms; ``association_events.automatic`` marks an approval made by the system on the
benchmark owner's behalf; ``results.runs`` counts the uploads of a result (rows so far:
one each).

Revision ID: 0006_data_policies
Revises: 0005_audit_trail
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_data_policies"
down_revision: str | None = "0005_audit_trail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmarks.id"],
            name=op.f("fk_agreement_acceptances_benchmark_id_benchmarks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agreement_acceptances_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_acceptances")),
        sa.UniqueConstraint(
            "benchmark_id",
            "user_id",
            "sha256",
            name=op.f("uq_agreement_acceptances_benchmark_id_user_id_sha256"),
        ),
    )
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_acceptances_benchmark_id"), ["benchmark_id"], unique=False
        )

    with op.batch_alter_table("association_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("automatic", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.JSON(), nullable=True))

    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreement", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("auto_approval", sa.JSON(), nullable=True))

    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runs", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("runs")

    with op.batch_alter_table("benchmarks", schema=None) as batch_op:
        batch_op.drop_column("auto_approval")
        batch_op.drop_column("agreement")

    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.drop_column("policy")

    with op.batch_alter_table("association_events", schema=None) as batch_op:
        batch_op.drop_column("automatic")

    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_acceptances_benchmark_id"))

    op.drop_table("agreement_acceptances")
