"""The API contract of ``attested`` key release: what a private model's owner pins, the
nonce a site asks for, and the evidence it sends back for its wrapped key.

A model whose key is released ``attested`` (``SealedArchive.key_release``) gives its
wrapped key to an approved site only against an evidence document that the pinned
attestation key signed, naming the pinned runner measurement and launch policy and a
nonce the server issued to that site for that model (``medval.trust.attestation``).
**No TEE runs on the machines medval is built on**: the document is medval's stand-in
for a hardware report (``docs/confidential-computing.md``). Imports only pydantic and
``core``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from medval.core.schema_types import Schema

# A measurement as the hardware reports it, in hex: SEV-SNP's MEASUREMENT is 48 bytes,
# TDX's MRTD 48 bytes too; a digest of 32 to 64 bytes is accepted.
MeasurementText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64,128}$")]
LaunchPolicyText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]
# Ed25519, base64 (RFC 4648, padded): a raw public key (32 bytes).
AttestationPublicKeyText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
NonceText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MAX_EVIDENCE_CHARS = 64 << 10  # a report is a few kilobytes (trust.attestation reads 64 KiB)


class AttestationPinsCreate(Schema):
    """What a private model's owner pins for ``attested`` release: the runner image's
    measurement and launch policy that may hold the key, the public key that signs the
    evidence, and how old evidence may be."""

    measurement: MeasurementText
    launch_policy: LaunchPolicyText
    signing_public_key: AttestationPublicKeyText
    window_seconds: int = Field(default=300, ge=10, le=3600)


class AttestationPinsPublic(Schema):
    """A model's pins, as anyone who may see the model sees them (a site needs the
    measurement to launch the runner image that may hold the key)."""

    model_id: int
    measurement: str
    launch_policy: str
    signing_public_key: str
    signing_key_id: str  # the sha256 of the raw key, as signing keys are named
    window_seconds: int
    pinned_at: datetime


class AttestationNoncePublic(Schema):
    """A nonce issued to the calling site for one model: single use, until
    ``expires_at``. The evidence must carry it (SEV-SNP REPORT_DATA, TDX REPORTDATA);
    ``spent_at``, once a release accepted it."""

    model_id: int
    nonce: str
    expires_at: datetime
    spent_at: datetime | None = None


class KeyReleaseEvidence(Schema):
    """A site's evidence for its wrapped key: the signed document, as the attester wrote
    it (JSON text)."""

    evidence: str = Field(min_length=1, max_length=MAX_EVIDENCE_CHARS)
