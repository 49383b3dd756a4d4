"""The audit chain: an append-only log in which every entry commits to the one before it.

Certificate Transparency's idea (RFC 9162) at its minimum, a hash chain: an entry's hash
covers its content and the previous entry's hash, so editing, inserting, reordering or
deleting an entry breaks a link that ``verify_chain`` finds and names. The log's head
(how many entries, the last hash), kept apart from the entries, catches a deletion at
the end, which no link can show. Used by the server's log (its store) and by each data
owner's own local log (``medval.client``). Imports only ``medval.core`` and libraries.

Hashes are sha256 over RFC 8785 canonical JSON (the ``rfc8785`` package, not our own
canonicalizer), so anyone can recompute them from the entries with any JSON library.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import rfc8785
from pydantic import BaseModel

from medval.core.schemas import AuditEntryPublic

# The "previous hash" of the first entry.
GENESIS_HASH = "0" * 64


def content_hash(document: Any) -> str:
    """sha256 (hex) of the RFC 8785 canonical form of a JSON value."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def public_hash(shown: BaseModel) -> str:
    """The content hash of an entity as the API shows it (its ``XPublic`` form).

    Through pydantic's JSON (NaN and infinities become null, as the API sends them),
    since canonical JSON has no NaN.
    """
    return content_hash(json.loads(shown.model_dump_json()))


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return at.astimezone(UTC).isoformat()


def entry_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before_hash: str | None,
    after_hash: str | None,
) -> str:
    """What an entry commits to: its content and the hash of the entry before.

    Not its ``seq``: an entry's place is what the links say, so a renumbered (reordered)
    entry is told apart from an edited one.
    """
    return content_hash(
        {
            "prev_hash": prev_hash,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "before_hash": before_hash,
            "after_hash": after_hash,
        }
    )


def recomputed_hash(entry: AuditEntryPublic) -> str:
    return entry_hash(
        prev_hash=entry.prev_hash,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        entity_kind=entry.entity_kind,
        entity_id=entry.entity_id,
        before_hash=entry.before_hash,
        after_hash=entry.after_hash,
    )


@dataclass(frozen=True)
class ChainHead:
    """How many entries the log holds and the hash of its last (``GENESIS_HASH``: none)."""

    size: int
    last_hash: str


EMPTY_HEAD = ChainHead(0, GENESIS_HASH)


def head_after(entry: AuditEntryPublic) -> ChainHead:
    return ChainHead(entry.seq, entry.entry_hash)


def next_entry(
    head: ChainHead,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before_hash: str | None,
    after_hash: str | None,
) -> AuditEntryPublic:
    """The entry that follows ``head`` (the new head: ``head_after(entry)``)."""
    content: dict[str, Any] = {
        "at": at,
        "actor": actor,
        "action": action,
        "entity_kind": entity_kind,
        "entity_id": entity_id,
        "before_hash": before_hash,
        "after_hash": after_hash,
    }
    return AuditEntryPublic(
        seq=head.size + 1,
        prev_hash=head.last_hash,
        entry_hash=entry_hash(prev_hash=head.last_hash, **content),
        **content,
    )


class Tampering(StrEnum):
    EDITED = "edited"
    INSERTED = "inserted"
    REORDERED = "reordered"
    DELETED = "deleted"


@dataclass(frozen=True)
class ChainBreak:
    """The first entry that does not verify, what was done to it, and why we say so."""

    seq: int
    tampering: Tampering
    reason: str

    @property
    def message(self) -> str:
        return f"entry {self.seq} was {self.tampering.value}: {self.reason}"


def verify_chain(
    entries: Sequence[AuditEntryPublic], head: ChainHead | None = None
) -> ChainBreak | None:
    """None if ``entries`` (in their stored order, by ``seq``) form an unbroken chain that
    ends at ``head`` (when given); else the first entry that does not, named."""
    position = {GENESIS_HASH: -1} | {e.entry_hash: i for i, e in enumerate(entries)}
    running, expected = GENESIS_HASH, 1
    for i, entry in enumerate(entries):
        if recomputed_hash(entry) != entry.entry_hash:
            return ChainBreak(entry.seq, Tampering.EDITED, "its content does not match its hash")
        if entry.prev_hash != running:
            return _broken_link(entries, i, position.get(entry.prev_hash), expected)
        if entry.seq != expected:
            return ChainBreak(
                entry.seq,
                Tampering.EDITED,
                f"its number was changed: it follows entry {expected - 1}",
            )
        running, expected = entry.entry_hash, expected + 1
    if head is None:
        return None
    return _check_head(entries, head, running)


def _broken_link(
    entries: Sequence[AuditEntryPublic], i: int, target: int | None, expected: int
) -> ChainBreak:
    """Entry ``i`` does not chain to the entry before it; ``target`` is the position of the
    entry it does chain to (-1: the start; None: an entry that is not in the log)."""
    entry = entries[i]
    if target is not None and target > i:
        return ChainBreak(
            entry.seq,
            Tampering.REORDERED,
            f"it chains to entry {entries[target].seq}, which comes after it",
        )
    if target is not None:
        # Every entry between the one it chains to and itself does not belong.
        inserted = entries[target + 1]
        to = f"entry {entries[target].seq}" if target >= 0 else "the start of the log"
        return ChainBreak(
            inserted.seq,
            Tampering.INSERTED,
            f"entry {entry.seq} chains to {to}, not to it",
        )
    if entry.seq > expected:
        missing = str(expected) if entry.seq == expected + 1 else f"{expected}-{entry.seq - 1}"
        return ChainBreak(
            expected,
            Tampering.DELETED,
            f"entry {entry.seq} chains to an entry that is not in the log (missing: {missing})",
        )
    if i > 0:
        return ChainBreak(
            entries[i - 1].seq,
            Tampering.EDITED,
            f"entry {entry.seq} chains to another version of it (its hash was recomputed)",
        )
    return ChainBreak(
        expected,
        Tampering.DELETED,
        f"entry {entry.seq} chains to an entry that is not in the log",
    )


def _check_head(
    entries: Sequence[AuditEntryPublic], head: ChainHead, running: str
) -> ChainBreak | None:
    size = len(entries)
    if head.size > size:
        missing = str(size + 1) if head.size == size + 1 else f"{size + 1}-{head.size}"
        return ChainBreak(
            size + 1,
            Tampering.DELETED,
            f"the log's head records {head.size} entries, {size} are left (missing: {missing})",
        )
    if head.size < size:
        return ChainBreak(
            entries[head.size].seq,
            Tampering.INSERTED,
            f"the log's head records {head.size} entries; it was added after them",
        )
    if head.last_hash != running:
        seq = entries[-1].seq if entries else 0
        return ChainBreak(
            seq,
            Tampering.EDITED,
            "the log's head records another hash for it (it was replaced and rehashed)",
        )
    return None
