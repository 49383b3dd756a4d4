"""The store's part for private models' keys: sites' encryption public keys, and model
keys wrapped to them. ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; adding a row that breaks a
uniqueness rule raises ``Conflict``; getters return ``None`` for unknown ids; every
change (a deletion too) is appended to the audit log by the store itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from medval.core.paging import Cursor
from medval.server.store.records import EncryptionKeyRecord, WrappedModelKeyRecord


class ModelKeyTransaction(Protocol):
    # --- encryption keys --------------------------------------------------------------
    def add_encryption_key(
        self, owner_id: int, key_id: str, public_key: str, now: datetime
    ) -> EncryptionKeyRecord:
        """A new current key of ``owner_id``; the one that was current is retired at
        ``now`` (keys are never deleted)."""
        ...

    def encryption_key(self, key_id: str) -> EncryptionKeyRecord | None: ...
    def current_encryption_key(self, owner_id: int) -> EncryptionKeyRecord | None: ...
    def list_encryption_keys(
        self, owner_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[EncryptionKeyRecord]: ...

    # --- wrapped model keys -----------------------------------------------------------
    def put_wrapped_model_key(
        self, cube_id: int, recipient_id: int, key_id: str, wrapped_key: str, now: datetime
    ) -> WrappedModelKeyRecord:
        """The recipient's wrapped key of the model, to encryption key ``key_id`` (which
        must be registered), replacing what was there (a key, or a withholding)."""
        ...

    def withhold_model_key(
        self, cube_id: int, recipient_id: int, now: datetime
    ) -> WrappedModelKeyRecord:
        """The recipient's wrapped key of the model deleted, and a mark that it is
        withheld put in its place."""
        ...

    def wrapped_model_key(self, cube_id: int, recipient_id: int) -> WrappedModelKeyRecord | None:
        """The row of the recipient for the model: a wrapped key, or a withholding."""
        ...

    def list_wrapped_model_keys(self, cube_id: int) -> list[WrappedModelKeyRecord]:
        """Every row of the model (wrapped keys and withholdings), by id."""
        ...

    def delete_wrapped_model_keys(self, cube_id: int, recipient_ids: Collection[int]) -> int:
        """Delete the wrapped keys (not the withholdings) of these recipients for the
        model; how many were deleted."""
        ...
