"""The audit chain: an unbroken log verifies; each kind of tampering is found and named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medval.core.schemas import AuditEntryPublic, ErrorBody
from medval.trust.audit_chain import (
    EMPTY_HEAD,
    GENESIS_HASH,
    ChainHead,
    Tampering,
    content_hash,
    head_after,
    next_entry,
    public_hash,
    recomputed_hash,
    verify_chain,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def _log(n: int = 5) -> list[AuditEntryPublic]:
    entries: list[AuditEntryPublic] = []
    head = EMPTY_HEAD
    for i in range(n):
        entry = next_entry(
            head,
            at=T0 + timedelta(minutes=i),
            actor="alice",
            action="cube.stage",
            entity_kind="cube",
            entity_id=str(i),
            before_hash=None if i == 0 else "b" * 64,
            after_hash="a" * 64,
        )
        entries.append(entry)
        head = head_after(entry)
    return entries


def _head(entries: list[AuditEntryPublic]) -> ChainHead:
    return head_after(entries[-1])


def _rehashed(entry: AuditEntryPublic, **changes: object) -> AuditEntryPublic:
    """``entry`` changed by someone who also recomputed its hash."""
    changed = entry.model_copy(update=changes)
    return changed.model_copy(update={"entry_hash": recomputed_hash(changed)})


def test_an_unbroken_log_verifies_with_and_without_its_head() -> None:
    entries = _log()
    assert verify_chain(entries) is None
    assert verify_chain(entries, _head(entries)) is None
    assert verify_chain([], EMPTY_HEAD) is None
    assert entries[0].prev_hash == GENESIS_HASH
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]


def test_the_canonical_form_is_rfc_8785() -> None:
    # Keys sorted, no whitespace: the same hash whatever order a writer used.
    assert content_hash({"b": 1, "a": [1.5, None]}) == content_hash({"a": [1.5, None], "b": 1})
    import hashlib

    assert content_hash({"b": 1, "a": "x"}) == hashlib.sha256(b'{"a":"x","b":1}').hexdigest()


def test_an_entity_hash_is_of_its_json_form() -> None:
    shown = ErrorBody(code="not_found", message="cube 1 does not exist")
    assert public_hash(shown) == content_hash({"code": "not_found", "message": shown.message})
    assert public_hash(shown) != public_hash(shown.model_copy(update={"code": "conflict"}))


def test_an_edited_entry_is_named() -> None:
    entries = _log()
    entries[2] = entries[2].model_copy(update={"actor": "mallory"})
    found = verify_chain(entries, ChainHead(5, entries[-1].entry_hash))
    assert found is not None
    assert (found.seq, found.tampering) == (3, Tampering.EDITED)
    assert found.message == "entry 3 was edited: its content does not match its hash"


def test_an_edited_and_rehashed_entry_is_named_by_the_next_link() -> None:
    entries = _log()
    entries[2] = _rehashed(entries[2], after_hash="c" * 64)
    found = verify_chain(entries)
    assert found is not None
    assert found.message == (
        "entry 3 was edited: entry 4 chains to another version of it (its hash was recomputed)"
    )


def test_the_last_entry_edited_and_rehashed_is_caught_by_the_head() -> None:
    entries = _log()
    head = _head(entries)
    entries[-1] = _rehashed(entries[-1], actor="mallory")
    assert verify_chain(entries) is None  # no link shows it ...
    found = verify_chain(entries, head)  # ... the head does
    assert found is not None
    assert found.message == (
        "entry 5 was edited: the log's head records another hash for it "
        "(it was replaced and rehashed)"
    )


def test_an_inserted_entry_is_named() -> None:
    entries = _log()
    # A forged entry that chains properly to entry 2, slipped in before entry 3.
    forged = next_entry(
        head_after(entries[1]),
        at=T0,
        actor="mallory",
        action="result.add",
        entity_kind="result",
        entity_id="9",
        before_hash=None,
        after_hash="d" * 64,
    )
    tampered = (
        entries[:2] + [forged] + [e.model_copy(update={"seq": e.seq + 1}) for e in entries[2:]]
    )
    found = verify_chain(tampered)
    assert found is not None
    assert (found.seq, found.tampering) == (3, Tampering.INSERTED)
    assert found.message == "entry 3 was inserted: entry 4 chains to entry 2, not to it"


def test_an_entry_inserted_first_is_named() -> None:
    entries = _log(3)
    forged = next_entry(
        EMPTY_HEAD,
        at=T0,
        actor="mallory",
        action="x",
        entity_kind="cube",
        entity_id="1",
        before_hash=None,
        after_hash=None,
    )
    tampered = [forged] + [e.model_copy(update={"seq": e.seq + 1}) for e in entries]
    found = verify_chain(tampered)
    assert found is not None
    assert (
        found.message == "entry 1 was inserted: entry 2 chains to the start of the log, not to it"
    )


def test_reordered_entries_are_named() -> None:
    entries = _log()
    # Entries 3 and 4 swap places (their numbers swapped, as in a table ordered by them).
    third, fourth = entries[2], entries[3]
    swapped = [fourth.model_copy(update={"seq": 3}), third.model_copy(update={"seq": 4})]
    tampered = entries[:2] + swapped + entries[4:]
    found = verify_chain(tampered)
    assert found is not None
    assert (found.seq, found.tampering) == (3, Tampering.REORDERED)
    assert found.message == "entry 3 was reordered: it chains to entry 4, which comes after it"


def test_a_deleted_entry_is_named() -> None:
    entries = _log()
    del entries[2]
    found = verify_chain(entries)
    assert found is not None
    assert (found.seq, found.tampering) == (3, Tampering.DELETED)
    assert found.message == (
        "entry 3 was deleted: entry 4 chains to an entry that is not in the log (missing: 3)"
    )


def test_several_deleted_entries_and_the_first_are_named() -> None:
    entries = _log(6)
    found = verify_chain(entries[:1] + entries[4:])
    assert found is not None
    assert found.message == (
        "entry 2 was deleted: entry 5 chains to an entry that is not in the log (missing: 2-4)"
    )
    found = verify_chain(entries[1:])
    assert found is not None
    assert (found.seq, found.tampering) == (1, Tampering.DELETED)


def test_entries_deleted_at_the_end_are_caught_by_the_head() -> None:
    entries = _log()
    head = _head(entries)
    assert verify_chain(entries[:3]) is None  # a shorter chain is still a chain ...
    found = verify_chain(entries[:3], head)  # ... but not the one the head records
    assert found is not None
    assert found.message == (
        "entry 4 was deleted: the log's head records 5 entries, 3 are left (missing: 4-5)"
    )


def test_an_entry_added_past_the_head_is_named() -> None:
    entries = _log()
    head = _head(entries[:4])
    found = verify_chain(entries, head)
    assert found is not None
    assert found.message == (
        "entry 5 was inserted: the log's head records 4 entries; it was added after them"
    )


def test_a_renumbered_entry_is_named() -> None:
    entries = _log()
    entries[3] = entries[3].model_copy(update={"seq": 7})
    found = verify_chain(entries)
    assert found is not None
    assert found.message == "entry 7 was edited: its number was changed: it follows entry 3"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_entry(
            EMPTY_HEAD,
            at=datetime(2024, 1, 1),
            actor="a",
            action="x",
            entity_kind="cube",
            entity_id="1",
            before_hash=None,
            after_hash=None,
        )
