"""The store's audit log, on every backend: one entry per change, in the change's own
transaction, chained, and never forked by concurrent appends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from medval.core.errors import Conflict
from medval.core.schemas import CubeCreate
from medval.core.states import CubeKind, Stage
from medval.server.store.interface import Actor
from medval.server.store.sql import SqlStore
from medval.trust.audit_chain import verify_chain

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_each_change_is_an_entry_by_the_actor_and_chained(store: SqlStore) -> None:
    with store.transaction(Actor("(server operator)", NOW)) as tx:
        alice = tx.add_user("alice", "argon2-hash", False, NOW)
    with store.transaction(Actor("alice", NOW)) as tx:
        cube = tx.add_cube(
            alice.id,
            CubeCreate(
                name="m", kind=CubeKind.MODEL, archive_hash="a" * 64, stage=Stage.DEVELOPMENT
            ),
            NOW,
        )
        tx.set_cube_stage(cube.id, Stage.OPERATION)
        tx.record_change("blob", "b" * 64, "upload", None, "b" * 64)
    with store.transaction() as tx:
        entries, head = tx.list_audit_entries(), tx.audit_head()
    assert [(e.actor, e.action, e.entity_kind, e.entity_id) for e in entries] == [
        ("(server operator)", "user.add", "user", str(alice.id)),
        ("alice", "cube.add", "cube", str(cube.id)),
        ("alice", "cube.stage", "cube", str(cube.id)),
        ("alice", "blob.upload", "blob", "b" * 64),
    ]
    # Touched twice in one transaction: the first entry ends where the second begins.
    assert entries[1].before_hash is None
    assert entries[1].after_hash == entries[2].before_hash != entries[2].after_hash
    assert head.size == 4 and verify_chain(entries, head) is None
    with store.transaction() as tx:
        assert [e.seq for e in tx.list_audit_entries(entity_kind="cube")] == [2, 3]
        assert [e.seq for e in tx.list_audit_entries(actor="(server operator)")] == [1]
        assert [e.seq for e in tx.list_audit_entries(entity_ids=["b" * 64])] == [4]


def test_a_transaction_that_fails_appends_nothing(store: SqlStore) -> None:
    with store.transaction(Actor("(server operator)", NOW)) as tx:
        tx.add_user("alice", "argon2-hash", False, NOW)
    with pytest.raises(Conflict), store.transaction(Actor("(server operator)", NOW)) as tx:
        tx.add_user("bob", "argon2-hash", False, NOW)
        tx.add_user("alice", "argon2-hash", False, NOW)
    with store.transaction() as tx:
        assert [e.entity_id for e in tx.list_audit_entries()] == ["1"]
        assert tx.audit_head().size == 1


def test_concurrent_appends_queue_up_and_never_fork(store: SqlStore) -> None:
    def add(i: int) -> None:
        with store.transaction(Actor(f"user{i}", NOW)) as tx:
            tx.add_user(f"user{i}", "argon2-hash", False, NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(24)))
    with store.transaction() as tx:
        entries, head = tx.list_audit_entries(), tx.audit_head()
    assert len(entries) == head.size == 24
    assert verify_chain(entries, head) is None
    assert len({e.prev_hash for e in entries}) == 24  # no two chained to the same entry


def test_a_deleted_entity_has_no_after_hash(store: SqlStore) -> None:
    """No store method deletes an entity yet; one that will must touch it first, as here."""
    from medval.server.store import models as m

    with store.transaction(Actor("(server operator)", NOW)) as tx:
        alice = tx.add_user("alice", "argon2-hash", False, NOW)
    with store.transaction(Actor("root", NOW)) as tx:
        row = tx.session.get(m.User, alice.id)
        assert row is not None
        tx.audit.touch(row, "delete")
        tx.session.delete(row)
    with store.transaction() as tx:
        last = tx.list_audit_entries()[-1]
    assert (last.action, last.actor, last.after_hash) == ("user.delete", "root", None)
    assert last.before_hash is not None
