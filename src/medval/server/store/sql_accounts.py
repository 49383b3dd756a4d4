"""The SQL store's part for accounts, their tokens and signing keys, and blobs, on
``SqlRows``.

As in ``sql``: no field is listed; rows are made by name and read back as records; the
methods only say which rows, in which order, and the errors a caller can cause.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, delete, or_, select

from medval.core.paging import Cursor
from medval.server.store import models as m
from medval.server.store.records import (
    BenchmarkRecord,
    CubeRecord,
    SigningKeyRecord,
    TokenRecord,
    UserRecord,
)
from medval.server.store.sql_rows import SqlRows, matching, paged


class SqlAccountRows(SqlRows):
    # --- accounts ---------------------------------------------------------------------

    def add_user(
        self, username: str, password_hash: str, is_admin: bool, now: datetime
    ) -> UserRecord:
        row = m.User(
            username=username, password_hash=password_hash, is_admin=is_admin, created_at=now
        )
        return UserRecord.model_validate(self._insert(row, f"a user named {username!r}"))

    def user(self, user_id: int) -> UserRecord | None:
        return self._find(UserRecord, m.User, user_id)

    def user_by_name(self, username: str) -> UserRecord | None:
        row = self.session.scalar(select(m.User).where(m.User.username == username))
        return UserRecord.model_validate(row) if row else None

    def password_hash(self, user_id: int) -> str | None:
        row = self.session.get(m.User, user_id)
        return row.password_hash if row else None

    def list_users(
        self, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[UserRecord]:
        return self._list(UserRecord, paged(select(m.User), [m.User.id], after, limit))

    def add_token(self, token_hash: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        row = m.ApiToken(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
        self._insert(row, "token")
        self.audit.touch(self._get(m.User, user_id, "user"), "log_in")

    def token(self, token_hash: str) -> TokenRecord | None:
        row = self.session.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == token_hash))
        return TokenRecord(UserRecord.model_validate(row.user), row.expires_at) if row else None

    def delete_token(self, token_hash: str) -> None:
        row = self.session.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == token_hash))
        if row is not None:
            self.audit.touch(row.user, "log_out")
            self.session.delete(row)
            self.session.flush()

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        user = self._get(m.User, user_id, "user")
        # The public form does not change (no hash in it), the action says what did.
        self.audit.touch(user, "password")
        user.password_hash = password_hash
        self.session.flush()

    def set_user_disabled(self, user_id: int, disabled: bool) -> UserRecord:
        action = "disable" if disabled else "enable"
        return self._change(UserRecord, m.User, user_id, "user", action, disabled=disabled)

    def delete_tokens(self, user_id: int, keep_hash: str | None = None) -> int:
        self.audit.touch(self._get(m.User, user_id, "user"), "revoke_tokens")
        query = delete(m.ApiToken).where(m.ApiToken.user_id == user_id)
        if keep_hash is not None:
            query = query.where(m.ApiToken.token_hash != keep_hash)
        result = self.session.execute(query)
        self.session.flush()
        return int(getattr(result, "rowcount", 0) or 0)  # a DELETE's result has a rowcount

    # --- signing keys -----------------------------------------------------------------

    def add_signing_key(
        self, owner_id: int, key_id: str, public_key: str, now: datetime
    ) -> SigningKeyRecord:
        current = select(m.SigningKey).where(
            m.SigningKey.owner_id == owner_id, m.SigningKey.retired_at.is_(None)
        )
        for row in self.session.scalars(current):
            self.audit.touch(row, "retire")
            row.retired_at = now
        key = m.SigningKey(owner_id=owner_id, key_id=key_id, public_key=public_key, created_at=now)
        return SigningKeyRecord.model_validate(self._insert(key, f"signing key {key_id}"))

    def signing_key(self, key_id: str) -> SigningKeyRecord | None:
        row = self.session.scalar(select(m.SigningKey).where(m.SigningKey.key_id == key_id))
        return SigningKeyRecord.model_validate(row) if row else None

    def list_signing_keys(
        self,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[SigningKeyRecord]:
        query = matching(select(m.SigningKey), (m.SigningKey.owner_id, owner_id))
        return self._list(SigningKeyRecord, paged(query, [m.SigningKey.id], after, limit))

    # --- blobs ------------------------------------------------------------------------

    def add_blob_owner(self, sha256: str, user_id: int, now: datetime) -> None:
        if self.session.get(m.BlobOwner, (sha256, user_id)) is None:
            self._insert(m.BlobOwner(sha256=sha256, user_id=user_id, uploaded_at=now), "owner")

    def blob_owner_ids(self, sha256: str) -> list[int]:
        query = select(m.BlobOwner.user_id).where(m.BlobOwner.sha256 == sha256)
        return list(self.session.scalars(query.order_by(m.BlobOwner.user_id)))

    def start_blob_upload(self, sha256: str, user_id: int, now: datetime) -> None:
        row = self.session.get(m.BlobUpload, sha256)
        if row is None:
            self._insert(m.BlobUpload(sha256=sha256, user_id=user_id, started_at=now), "upload")
        else:
            row.user_id, row.started_at = user_id, now
            self.session.flush()

    def blob_uploader_id(self, sha256: str) -> int | None:
        row = self.session.get(m.BlobUpload, sha256)
        return row.user_id if row is not None else None

    def cubes_with_blob(self, sha256: str) -> list[CubeRecord]:
        # A private model holds its sealed archive, never the one its clear hash names.
        query = select(m.Cube).where(
            or_(
                m.Cube.archive_hash == sha256,
                m.Cube.image_archive_hash == sha256,
                cast(m.Cube.sealed, String).contains(sha256),
            )
        )
        cubes = self._list(CubeRecord, query.order_by(m.Cube.id))
        return [cube for cube in cubes if sha256 in cube.blob_hashes]

    def benchmarks_with_demo_data(self, sha256: str) -> list[BenchmarkRecord]:
        query = select(m.Benchmark).where(m.Benchmark.demo_data_hash == sha256)
        return self._list(BenchmarkRecord, query.order_by(m.Benchmark.id))
