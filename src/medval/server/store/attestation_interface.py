"""The store's part for ``attested`` key release: a private model's pins, and the nonces
issued to sites. ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; getters return ``None`` for
unknown ids; every change (pins put, a nonce issued or spent) is appended to the audit
log by the store itself. Nonces are kept once expired, as records of what was asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from medval.core.attestation_schemas import AttestationPinsCreate
from medval.server.store.records import AttestationNonceRecord, AttestationPinsRecord


class AttestationTransaction(Protocol):
    # --- pins -------------------------------------------------------------------------
    def put_attestation_pins(
        self, cube_id: int, pins: AttestationPinsCreate, now: datetime
    ) -> AttestationPinsRecord:
        """The model's pins, replacing any it had."""
        ...

    def attestation_pins(self, cube_id: int) -> AttestationPinsRecord | None: ...

    # --- nonces -----------------------------------------------------------------------
    def add_attestation_nonce(
        self, cube_id: int, recipient_id: int, nonce: str, now: datetime, expires_at: datetime
    ) -> AttestationNonceRecord:
        """A nonce issued at ``now`` to the recipient for the model."""
        ...

    def attestation_nonce(self, nonce: str) -> AttestationNonceRecord | None: ...

    def spend_attestation_nonce(self, nonce: str, now: datetime) -> bool:
        """Mark the nonce spent at ``now``: True if this call spent it, False if it was
        spent already (by anyone, in any process) or does not exist."""
        ...
