"""Benchmarks' phases, and every result in one; results' publication (issue 19)

``phases`` holds each benchmark's phases: dates, its own evaluator, reference model and
demo data if any (NULL: the benchmark's), its publication mode, and once closed its
archived leaderboard (canonical JSON) with its content hash. Every benchmark registered
before gets one phase, ``main``, open from its registration with no end, automatic; so a
benchmark of one phase is what every benchmark was.

``results`` gains ``phase_id`` (every existing result: its benchmark's ``main``), its
``publication`` (``automatic`` for every existing one: released by the release policy, as
before) and the committee's ``publication_reason``. The unique rule "one result per
benchmark, dataset and model" becomes one per phase too. Downgrading keeps only the
results of each benchmark's first phase (the older schema holds one per model and
dataset) and drops the phases.

Revision ID: 0017_phases
Revises: 0016_model_keys
Create Date: 2026-12-06 07:04:18.736435
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_phases"
down_revision: str | None = "0016_model_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLICATION_MODE = sa.Enum(
    "automatic", "held", name="publicationmode", native_enum=False, length=20
)
RESULT_PUBLICATION = sa.Enum(
    "automatic", "held", "published", "withheld",
    name="resultpublication", native_enum=False, length=20,
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluator_id", sa.Integer(), nullable=True),
        sa.Column("reference_model_id", sa.Integer(), nullable=True),
        sa.Column("demo_data_hash", sa.String(length=64), nullable=True),
        sa.Column("publication", PUBLICATION_MODE, server_default="automatic", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("board_hash", sa.String(length=64), nullable=True),
        sa.Column("board_json", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmarks.id"],
            name=op.f("fk_phases_benchmark_id_benchmarks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evaluator_id"], ["cubes.id"], name=op.f("fk_phases_evaluator_id_cubes")
        ),
        sa.ForeignKeyConstraint(
            ["reference_model_id"], ["cubes.id"], name=op.f("fk_phases_reference_model_id_cubes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phases")),
        sa.UniqueConstraint("benchmark_id", "name", name=op.f("uq_phases_benchmark_id_name")),
    )
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phases_benchmark_id"), ["benchmark_id"], unique=False)

    # Every benchmark so far: one phase, open from its registration, with no end.
    op.execute(
        "INSERT INTO phases (benchmark_id, name, opens_at, publication, created_at) "
        "SELECT id, 'main', created_at, 'automatic', created_at FROM benchmarks"
    )

    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("publication", RESULT_PUBLICATION, server_default="automatic", nullable=False)
        )
        batch_op.add_column(sa.Column("publication_reason", sa.String(length=500), nullable=True))
    op.execute(
        "UPDATE results SET phase_id = "
        "(SELECT phases.id FROM phases WHERE phases.benchmark_id = results.benchmark_id)"
    )
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.alter_column("phase_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("uq_results_benchmark_id_dataset_id_model_id"), type_="unique"
        )
        batch_op.create_index(batch_op.f("ix_results_phase_id"), ["phase_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_results_benchmark_id_phase_id_dataset_id_model_id"),
            ["benchmark_id", "phase_id", "dataset_id", "model_id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_results_phase_id_phases"), "phases", ["phase_id"], ["id"]
        )


def downgrade() -> None:
    # The older schema holds one result per benchmark, dataset and model: the first
    # phase's (the one every benchmark had before phases).
    op.execute(
        "DELETE FROM results WHERE phase_id <> (SELECT MIN(phases.id) FROM phases "
        "WHERE phases.benchmark_id = results.benchmark_id)"
    )
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_results_phase_id_phases"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("uq_results_benchmark_id_phase_id_dataset_id_model_id"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_results_phase_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_results_benchmark_id_dataset_id_model_id"),
            ["benchmark_id", "dataset_id", "model_id"],
        )
        batch_op.drop_column("publication_reason")
        batch_op.drop_column("publication")
        batch_op.drop_column("phase_id")

    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phases_benchmark_id"))
    op.drop_table("phases")
