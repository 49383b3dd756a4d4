"""Federated training (issue 11): aggregators, training experiments (with their CA),
training associations (a dataset joins an experiment with its site's node key; every move
kept in ``training_association_events``), and round metrics (aggregated, and per site).

New tables only: nothing that exists changes.

Revision ID: 0011_training
Revises: 0010_blob_owners
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_training"
down_revision: str | None = "0010_blob_owners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aggregators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_aggregators_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregators")),
        sa.UniqueConstraint("name", name=op.f("uq_aggregators_name")),
    )
    with op.batch_alter_table("aggregators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aggregators_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "training_experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("data_preparator_id", sa.Integer(), nullable=False),
        sa.Column("training_cube_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("aggregator_id", sa.Integer(), nullable=False),
        sa.Column(
            "approval",
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
        sa.Column("auto_approval", sa.JSON(), nullable=False),
        sa.Column("ca_certificate_pem", sa.Text(), nullable=False),
        sa.Column("ca_key_pem", sa.Text(), nullable=False),
        sa.Column("aggregator_certificate_pem", sa.Text(), nullable=True),
        sa.Column("final_model_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["aggregator_id"],
            ["aggregators.id"],
            name=op.f("fk_training_experiments_aggregator_id_aggregators"),
        ),
        sa.ForeignKeyConstraint(
            ["data_preparator_id"],
            ["cubes.id"],
            name=op.f("fk_training_experiments_data_preparator_id_cubes"),
        ),
        sa.ForeignKeyConstraint(
            ["final_model_id"],
            ["cubes.id"],
            name=op.f("fk_training_experiments_final_model_id_cubes"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_training_experiments_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["training_cube_id"],
            ["cubes.id"],
            name=op.f("fk_training_experiments_training_cube_id_cubes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_training_experiments_name")),
    )
    with op.batch_alter_table("training_experiments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_experiments_aggregator_id"), ["aggregator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_experiments_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "site_training_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_site_training_rounds_dataset_id_datasets"),
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["training_experiments.id"],
            name=op.f("fk_site_training_rounds_experiment_id_training_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_site_training_rounds_uploaded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_training_rounds")),
        sa.UniqueConstraint(
            "experiment_id",
            "dataset_id",
            "round",
            name=op.f("uq_site_training_rounds_experiment_id_dataset_id_round"),
        ),
    )
    with op.batch_alter_table("site_training_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_training_rounds_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "training_associations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
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
        sa.Column("node_public_key", sa.String(length=1000), nullable=False),
        sa.Column("initiated_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_training_associations_dataset_id_datasets"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_training_associations_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["training_experiments.id"],
            name=op.f("fk_training_associations_experiment_id_training_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiated_by_id"],
            ["users.id"],
            name=op.f("fk_training_associations_initiated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_associations")),
        sa.UniqueConstraint(
            "experiment_id",
            "dataset_id",
            name=op.f("uq_training_associations_experiment_id_dataset_id"),
        ),
        sa.UniqueConstraint(
            "experiment_id",
            "node_public_key",
            name=op.f("uq_training_associations_experiment_id_node_public_key"),
        ),
    )
    with op.batch_alter_table("training_associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_associations_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "training_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["training_experiments.id"],
            name=op.f("fk_training_rounds_experiment_id_training_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_training_rounds_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_rounds")),
        sa.UniqueConstraint(
            "experiment_id", "round", name=op.f("uq_training_rounds_experiment_id_round")
        ),
    )
    op.create_table(
        "training_association_events",
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
        sa.Column("automatic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_training_association_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["training_associations.id"],
            name=op.f("fk_training_association_events_association_id_training_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_association_events")),
    )
    with op.batch_alter_table("training_association_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_association_events_association_id"),
            ["association_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("training_association_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_association_events_association_id"))

    op.drop_table("training_association_events")
    op.drop_table("training_rounds")
    with op.batch_alter_table("training_associations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_associations_dataset_id"))

    op.drop_table("training_associations")
    with op.batch_alter_table("site_training_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_training_rounds_dataset_id"))

    op.drop_table("site_training_rounds")
    with op.batch_alter_table("training_experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_experiments_owner_id"))
        batch_op.drop_index(batch_op.f("ix_training_experiments_aggregator_id"))

    op.drop_table("training_experiments")
    with op.batch_alter_table("aggregators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aggregators_owner_id"))

    op.drop_table("aggregators")
