"""The SQL store's part for private models' keys (``model_keys_interface``), on ``SqlRows``.

As in ``sql``: rows are read back as records; the methods only say which rows, in which
order, and the errors a caller can cause. Every change, a deletion too, is touched for
the audit log before it is made.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from medval.core.errors import NotFound
from medval.core.paging import Cursor
from medval.server.store import model_key_models as k
from medval.server.store.records import EncryptionKeyRecord, WrappedModelKeyRecord
from medval.server.store.sql_rows import SqlRows, paged


class SqlModelKeyRows(SqlRows):
    # --- encryption keys --------------------------------------------------------------

    def add_encryption_key(
        self, owner_id: int, key_id: str, public_key: str, now: datetime
    ) -> EncryptionKeyRecord:
        current = select(k.EncryptionKey).where(
            k.EncryptionKey.owner_id == owner_id, k.EncryptionKey.retired_at.is_(None)
        )
        for row in self.session.scalars(current):
            self.audit.touch(row, "retire")
            row.retired_at = now
        key = k.EncryptionKey(
            owner_id=owner_id, key_id=key_id, public_key=public_key, created_at=now
        )
        return EncryptionKeyRecord.model_validate(self._insert(key, f"encryption key {key_id}"))

    def encryption_key(self, key_id: str) -> EncryptionKeyRecord | None:
        row = self.session.scalar(select(k.EncryptionKey).where(k.EncryptionKey.key_id == key_id))
        return EncryptionKeyRecord.model_validate(row) if row else None

    def current_encryption_key(self, owner_id: int) -> EncryptionKeyRecord | None:
        row = self.session.scalar(
            select(k.EncryptionKey).where(
                k.EncryptionKey.owner_id == owner_id, k.EncryptionKey.retired_at.is_(None)
            )
        )
        return EncryptionKeyRecord.model_validate(row) if row else None

    def list_encryption_keys(
        self, owner_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[EncryptionKeyRecord]:
        query = select(k.EncryptionKey).where(k.EncryptionKey.owner_id == owner_id)
        return self._list(EncryptionKeyRecord, paged(query, [k.EncryptionKey.id], after, limit))

    # --- wrapped model keys -----------------------------------------------------------

    def _wrapped_row(self, cube_id: int, recipient_id: int) -> k.WrappedModelKey | None:
        return self.session.scalar(
            select(k.WrappedModelKey).where(
                k.WrappedModelKey.cube_id == cube_id,
                k.WrappedModelKey.recipient_id == recipient_id,
            )
        )

    def _set_wrapped(
        self,
        cube_id: int,
        recipient_id: int,
        now: datetime,
        action: str,
        **values: object,
    ) -> WrappedModelKeyRecord:
        row = self._wrapped_row(cube_id, recipient_id)
        if row is None:
            row = k.WrappedModelKey(
                cube_id=cube_id, recipient_id=recipient_id, created_at=now, **values
            )
            what = f"a wrapped key of model {cube_id} for user {recipient_id}"
            return WrappedModelKeyRecord.model_validate(self._insert(row, what))
        self.audit.touch(row, action)
        for name, value in values.items():
            setattr(row, name, value)
        row.created_at = now
        self.session.flush()
        self.session.refresh(row)
        return WrappedModelKeyRecord.model_validate(row)

    def put_wrapped_model_key(
        self, cube_id: int, recipient_id: int, key_id: str, wrapped_key: str, now: datetime
    ) -> WrappedModelKeyRecord:
        key = self.session.scalar(select(k.EncryptionKey).where(k.EncryptionKey.key_id == key_id))
        if key is None:
            raise NotFound(f"encryption key {key_id[:16]} does not exist")
        return self._set_wrapped(
            cube_id,
            recipient_id,
            now,
            "grant",
            encryption_key_id=key.id,
            wrapped_key=wrapped_key,
            withheld=False,
        )

    def withhold_model_key(
        self, cube_id: int, recipient_id: int, now: datetime
    ) -> WrappedModelKeyRecord:
        return self._set_wrapped(
            cube_id,
            recipient_id,
            now,
            "withhold",
            encryption_key_id=None,
            wrapped_key=None,
            withheld=True,
        )

    def wrapped_model_key(self, cube_id: int, recipient_id: int) -> WrappedModelKeyRecord | None:
        row = self._wrapped_row(cube_id, recipient_id)
        return WrappedModelKeyRecord.model_validate(row) if row else None

    def list_wrapped_model_keys(self, cube_id: int) -> list[WrappedModelKeyRecord]:
        query = select(k.WrappedModelKey).where(k.WrappedModelKey.cube_id == cube_id)
        return self._list(WrappedModelKeyRecord, query.order_by(k.WrappedModelKey.id))

    def delete_wrapped_model_keys(self, cube_id: int, recipient_ids: Collection[int]) -> int:
        if not recipient_ids:
            return 0
        query = select(k.WrappedModelKey).where(
            k.WrappedModelKey.cube_id == cube_id,
            k.WrappedModelKey.recipient_id.in_(list(recipient_ids)),
            k.WrappedModelKey.withheld.is_(False),
        )
        rows = list(self.session.scalars(query))
        for row in rows:
            self.audit.touch(row, "delete")
            self.session.delete(row)
        self.session.flush()
        return len(rows)
