"""The data owner's own audit log: every approval, execution and upload made here.

Kept in the workspace (``audit/log.jsonl``, one entry a line, and ``audit/head.json``),
owner-only (700 and 600, whatever the umask), hash-chained with the same code as the
server's log (``medval.trust.audit_chain``), so that ``medval audit verify`` finds an
entry that was edited, inserted, reordered or deleted since, and names it. It is the
hospital's record, independent of the server's: what this machine approved, ran and sent.

Appends hold an exclusive lock on the folder's lock file, so two ``medval`` processes
on one workspace cannot both chain to the same entry.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from medval.core.errors import HashMismatch
from medval.core.schemas import AuditEntryPublic
from medval.trust.audit_chain import (
    EMPTY_HEAD,
    ChainHead,
    head_after,
    next_entry,
    public_hash,
    verify_chain,
)

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700


class LocalAuditLog:
    """The log in ``folder``; entries are recorded as done by ``actor`` (the account)."""

    def __init__(self, folder: Path, actor: str) -> None:
        self.folder = folder
        self.actor = actor

    @property
    def entries_path(self) -> Path:
        return self.folder / "log.jsonl"

    @property
    def head_path(self) -> Path:
        return self.folder / "head.json"

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(OWNER_ONLY_FOLDER)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(
        self,
        action: str,
        entity_kind: str,
        entity_id: str,
        before_hash: str | None,
        after_hash: str | None,
    ) -> AuditEntryPublic:
        with self._locked():
            entry = next_entry(
                self.head(),
                at=datetime.now(UTC),
                actor=self.actor,
                action=action,
                entity_kind=entity_kind,
                entity_id=entity_id,
                before_hash=before_hash,
                after_hash=after_hash,
            )
            fd = os.open(self.entries_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, OWNER_ONLY_FILE)
            with os.fdopen(fd, "a") as handle:
                handle.write(entry.model_dump_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.entries_path.chmod(OWNER_ONLY_FILE)
            self._write_head(head_after(entry))
        return entry

    def _write_head(self, head: ChainHead) -> None:
        tmp = self.head_path.with_name(".head.json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
        with os.fdopen(fd, "w") as handle:
            json.dump({"size": head.size, "last_hash": head.last_hash}, handle)
        tmp.chmod(OWNER_ONLY_FILE)
        os.replace(tmp, self.head_path)

    # --- reading ------------------------------------------------------------------------

    def head(self) -> ChainHead:
        if not self.head_path.is_file():
            return EMPTY_HEAD
        try:
            found = json.loads(self.head_path.read_text())
            return ChainHead(int(found["size"]), str(found["last_hash"]))
        except (ValueError, KeyError, TypeError):
            raise HashMismatch(
                f"local audit log does not verify: {self.head_path} is damaged"
            ) from None

    def entries(self) -> list[AuditEntryPublic]:
        if not self.entries_path.is_file():
            return []
        entries = []
        lines = self.entries_path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(AuditEntryPublic.model_validate_json(line))
            except ValidationError:
                raise HashMismatch(
                    f"local audit log does not verify: line {number} of {self.entries_path} "
                    "is not an entry (edited)"
                ) from None
        return entries

    def verify(self) -> ChainHead:
        """The head of an unbroken log; ``HashMismatch`` naming the first bad entry."""
        head = self.head()
        found = verify_chain(self.entries(), head)
        if found is not None:
            raise HashMismatch(f"local audit log does not verify: {found.message}")
        return head


# --- what is recorded: each a use case's step, in the same words everywhere --------------


def record(
    log: LocalAuditLog, action: str, entity_kind: str, entity_id: str, shown: BaseModel
) -> None:
    """``action`` on an entity, with the hash of what was approved, made or sent."""
    log.append(f"{entity_kind}.{action}", entity_kind, entity_id, None, public_hash(shown))
