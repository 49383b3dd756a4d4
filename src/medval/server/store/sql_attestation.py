"""The SQL store's part for ``attested`` key release (``attestation_interface``), on
``SqlRows``.

As in ``sql``: rows are read back as records, and every change is touched for the audit
log before it is made. A nonce is read ``FOR UPDATE`` and spent by a conditional UPDATE
(``spent_at IS NULL``): under PostgreSQL's READ COMMITTED a second transaction spending
the same nonce waits for the first and then finds it spent; SQLite runs one writer at a
time. Either way exactly one release accepts a nonce.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from medval.core.attestation_schemas import AttestationPinsCreate
from medval.server.store import attestation_models as a
from medval.server.store.records import AttestationNonceRecord, AttestationPinsRecord
from medval.server.store.sql_rows import SqlRows


class SqlAttestationRows(SqlRows):
    # --- pins -------------------------------------------------------------------------

    def _pins_row(self, cube_id: int) -> a.AttestationPins | None:
        return self.session.scalar(
            select(a.AttestationPins).where(a.AttestationPins.cube_id == cube_id)
        )

    def put_attestation_pins(
        self, cube_id: int, pins: AttestationPinsCreate, now: datetime
    ) -> AttestationPinsRecord:
        row = self._pins_row(cube_id)
        if row is None:
            row = a.AttestationPins(cube_id=cube_id, pinned_at=now, **dict(pins))
            what = f"the attestation pins of model {cube_id}"
            return AttestationPinsRecord.model_validate(self._insert(row, what))
        self.audit.touch(row, "repin")
        for name, value in dict(pins).items():
            setattr(row, name, value)
        row.pinned_at = now
        self.session.flush()
        self.session.refresh(row)
        return AttestationPinsRecord.model_validate(row)

    def attestation_pins(self, cube_id: int) -> AttestationPinsRecord | None:
        row = self._pins_row(cube_id)
        return AttestationPinsRecord.model_validate(row) if row else None

    # --- nonces -----------------------------------------------------------------------

    def add_attestation_nonce(
        self, cube_id: int, recipient_id: int, nonce: str, now: datetime, expires_at: datetime
    ) -> AttestationNonceRecord:
        row = a.AttestationNonce(
            nonce=nonce,
            cube_id=cube_id,
            recipient_id=recipient_id,
            issued_at=now,
            expires_at=expires_at,
        )
        return AttestationNonceRecord.model_validate(self._insert(row, "this nonce"))

    def attestation_nonce(self, nonce: str) -> AttestationNonceRecord | None:
        row = self.session.scalar(
            select(a.AttestationNonce).where(a.AttestationNonce.nonce == nonce)
        )
        return AttestationNonceRecord.model_validate(row) if row else None

    def spend_attestation_nonce(self, nonce: str, now: datetime) -> bool:
        row = self.session.scalar(
            select(a.AttestationNonce).where(a.AttestationNonce.nonce == nonce).with_for_update()
        )
        if row is None or row.spent_at is not None:
            return False
        self.audit.touch(row, "spend")
        claimed = self.session.execute(
            update(a.AttestationNonce)
            .where(a.AttestationNonce.id == row.id, a.AttestationNonce.spent_at.is_(None))
            .values(spent_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False  # spent by another transaction since it was read
        row.spent_at = now  # the session's copy, which the log's entry is hashed over
        self.session.flush()
        return True
