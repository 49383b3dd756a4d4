"""Revision 0017_phases: every benchmark registered before gets one phase, ``main``, open
from its registration with no end, and every result before it that phase, released by
the release policy as before (``automatic``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from medval.server.store.database import create_database_engine
from medval.server.store.migrate import alembic_config

AT = "2024-05-01 09:00:00"
DOCUMENT = '{"n_cases": 10, "metrics": {"auroc": {"value": 0.8}}}'
PROVENANCE = '{"dataset_hash": "' + "b" * 64 + '"}'


def _insert(connection: sa.Connection, sql: str, **values: object) -> None:
    connection.execute(sa.text(sql), values)


def test_every_benchmark_gets_one_phase_and_every_result_that_phase(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0016_model_keys")
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as c:
            _insert(
                c,
                "INSERT INTO users (id, username, password_hash, is_admin, created_at) "
                "VALUES (1, 'alice', 'h', false, :at)",
                at=AT,
            )
            _insert(
                c,
                "INSERT INTO cubes (id, name, kind, archive_hash, owner_id, stage, created_at) "
                "VALUES (1, 'm', 'model', :h, 1, 'operation', :at)",
                h="a" * 64,
                at=AT,
            )
            _insert(
                c,
                "INSERT INTO datasets (id, name, description, location, data_preparator_id, "
                "data_hash, statistics, stage, created_at, owner_id) VALUES "
                "(1, 'd', '', '', 1, :h, '{\"n_cases\": 10}', 'operation', :at, 1)",
                h="b" * 64,
                at=AT,
            )
            for benchmark_id, name, at in ((1, "b1", AT), (2, "b2", "2024-06-01 10:00:00")):
                _insert(
                    c,
                    "INSERT INTO benchmarks (id, name, description, docs_url, "
                    "data_preparator_id, reference_model_id, evaluator_id, demo_data_hash, "
                    "release_policy, approval, stage, created_at, owner_id) VALUES (:id, :name, "
                    "'', '', 1, 1, 1, :h, 'public', 'approved', 'operation', :at, 1)",
                    id=benchmark_id,
                    name=name,
                    h="a" * 64,
                    at=at,
                )
                _insert(
                    c,
                    "INSERT INTO results (id, benchmark_id, dataset_id, model_id, owner_id, "
                    "status, document, provenance, created_at) VALUES (:id, :id, 1, 1, 1, "
                    "'succeeded', :document, :provenance, :at)",
                    id=benchmark_id,
                    document=DOCUMENT,
                    provenance=PROVENANCE,
                    at=AT,
                )
        command.upgrade(config, "head")
        with engine.connect() as c:
            phases = c.execute(
                sa.text(
                    "SELECT id, benchmark_id, name, publication, closes_at, closed_at "
                    "FROM phases ORDER BY benchmark_id"
                )
            ).all()
            opens = c.execute(sa.text("SELECT opens_at FROM phases ORDER BY benchmark_id")).all()
            results = c.execute(
                sa.text("SELECT id, phase_id, publication FROM results ORDER BY id")
            ).all()
        assert [tuple(p[1:]) for p in phases] == [
            (1, "main", "automatic", None, None),
            (2, "main", "automatic", None, None),
        ]
        assert [str(o[0])[:16] for o in opens] == ["2024-05-01 09:00", "2024-06-01 10:00"]
        assert results == [(1, phases[0][0], "automatic"), (2, phases[1][0], "automatic")]

        # A second phase's result of the same model and dataset is allowed from now on...
        with engine.begin() as c:
            _insert(
                c,
                "INSERT INTO phases (id, benchmark_id, name, opens_at, publication, created_at) "
                "VALUES (10, 1, 'final', :at, 'held', :at)",
                at=AT,
            )
            _insert(
                c,
                "INSERT INTO results (id, benchmark_id, phase_id, dataset_id, model_id, "
                "owner_id, status, document, provenance, created_at, publication) VALUES "
                "(3, 1, 10, 1, 1, 1, 'succeeded', :document, :provenance, :at, 'held')",
                document=DOCUMENT,
                provenance=PROVENANCE,
                at=AT,
            )
        # ... and going down keeps each benchmark's first phase's results only.
        command.downgrade(config, "0016_model_keys")
        with engine.connect() as c:
            assert "phases" not in sa.inspect(c).get_table_names()
            kept = c.execute(sa.text("SELECT id FROM results ORDER BY id")).all()
        assert kept == [(1,), (2,)]
    finally:
        engine.dispose()
