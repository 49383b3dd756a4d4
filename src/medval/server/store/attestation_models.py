"""The tables of ``attested`` key release (issue 16): what a private model's owner pins,
and the nonces issued to sites for their evidence.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.attestation_schemas``, shown. Nonces are single use: a
site's evidence spends one (``spent_at``) in the transaction that releases its key, by
a conditional UPDATE, so two server processes cannot both accept the same nonce. Both
are entities of the audit log (``attestation_pins``, ``attestation_nonce``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from medval.server.store.model_base import Base
from medval.trust.keys import key_id


class AttestationPins(Base):
    """A private model's pins: the runner measurement and launch policy that may hold
    its key, the Ed25519 key that signs the evidence, and how old evidence may be. One
    row per model; pinning again replaces them (each change is in the audit log)."""

    __tablename__ = "attestation_pins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cube_id: Mapped[int] = mapped_column(ForeignKey("cubes.id", ondelete="CASCADE"), unique=True)
    measurement: Mapped[str] = mapped_column(String(128))
    launch_policy: Mapped[str] = mapped_column(String(200))
    signing_public_key: Mapped[str] = mapped_column(String(44))
    window_seconds: Mapped[int]
    pinned_at: Mapped[datetime]

    @property
    def model_id(self) -> int:
        return self.cube_id

    @property
    def signing_key_id(self) -> str:
        return key_id(self.signing_public_key)


class AttestationNonce(Base):
    """A nonce issued to one site (``recipient_id``) for evidence about one model;
    ``spent_at`` once a document carrying it released the key."""

    __tablename__ = "attestation_nonces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    cube_id: Mapped[int] = mapped_column(ForeignKey("cubes.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    spent_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def model_id(self) -> int:
        return self.cube_id
