"""The ``attested`` key-release verifier: a signed evidence document, checked against pins.

**No TEE runs here.** The evidence document is medval's own stand-in for a hardware
attestation report (an AMD SEV-SNP report or an Intel TDX quote): a JSON payload naming
the model, the measurement of the runner image that was launched, its launch policy, the
nonce the verifier issued, and when it was made, signed with Ed25519 over its RFC 8785
canonical form (``rfc8785``, ``cryptography``, as results are signed). A real verifier
would check the vendor's certificate chain (AMD's VCEK, Intel's PCK) and the report's
own fields instead of one pinned key; it would sit behind the same ``KeyReleaseVerifier``
interface (``medval.trust.key_release``), and so would a cloud attestation service's
token. See ``docs/confidential-computing.md``.

The checks, in order, each refusing with its own one-line ``KeyReleaseRefused``: the site
is approved; evidence was sent and is a document; its signature verifies with the pinned
key (before anything inside it is believed); it is for this model; its measurement and
launch policy are the pinned ones; it was made within the time window; and its nonce was
issued here, for this model, has not expired and was not used before. The nonce is spent
only when everything else passed, so that a forged document cannot burn a site's nonce.

``NonceBook`` keeps nonces in this process's memory (for one process, and tests); the
server keeps them in its database (``medval.server.services.attestation``), so that a
server of several processes spends each nonce once. Imports only
``medval.core``, ``medval.trust``, pydantic, ``rfc8785`` and ``cryptography``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import rfc8785
from pydantic import BaseModel, ConfigDict, ValidationError

from medval.core.errors import KeyReleaseRefused, describe_problems
from medval.trust.key_release import (
    EvidenceForAnotherModel,
    EvidenceMalformed,
    EvidenceMissing,
    EvidenceOutsideWindow,
    EvidenceSignatureInvalid,
    KeyReleaseRequest,
    KeyReleaseVerifierKind,
    LaunchPolicyMismatch,
    MeasurementMismatch,
    NonceExpired,
    NonceReplayed,
    NonceUnknown,
    refusal,
    require_approved,
)
from medval.trust.keys import SigningKey, key_id, signature_matches
from medval.trust.signed_result import timestamp

# Names what the bytes are, so an evidence signature means nothing anywhere else.
EVIDENCE_TYPE: Literal["medval.attestation-evidence/v1"] = "medval.attestation-evidence/v1"
MAX_EVIDENCE_BYTES = 64 << 10  # a report is a few kilobytes; read whole

__all__ = [
    "EVIDENCE_TYPE",
    "AttestationPins",
    "AttestedVerifier",
    "Evidence",
    "IssuedNonce",
    "NonceBook",
    "Nonces",
    "check_nonce",
    "nonce_replayed",
    "sign_evidence",
]


class Evidence(BaseModel):
    """What the attester signs: the stand-in for a SEV-SNP report or a TDX quote."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: Literal["medval.attestation-evidence/v1"] = EVIDENCE_TYPE
    model_id: int
    measurement: str  # of the runner image as launched (SEV-SNP MEASUREMENT, TDX MRTD)
    launch_policy: str  # the guest's launch policy (SEV-SNP POLICY, TDX TD attributes)
    nonce: str  # issued by the verifier (SEV-SNP REPORT_DATA, TDX REPORTDATA)
    reported_at: str  # UTC, as ``medval.trust.signed_result.timestamp`` writes it

    def canonical(self) -> bytes:
        """The bytes that are signed: the payload in RFC 8785 form."""
        return rfc8785.dumps(self.model_dump(mode="json"))


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    payload: dict[str, Any]
    signature: str  # base64 Ed25519 over the payload's RFC 8785 form


def sign_evidence(evidence: Evidence, key: SigningKey) -> bytes:
    """The document an attester sends: the evidence and its signature, as JSON bytes.

    Here it stands in for the hardware: tests (and, later, a simulated runner) sign
    with a key of their own, which the verifier pins.
    """
    envelope = {"payload": evidence.model_dump(mode="json"), "signature": ""}
    envelope["signature"] = key.sign(evidence.canonical())
    return json.dumps(envelope).encode()


@dataclass(frozen=True)
class AttestationPins:
    """What a model's owner pins for ``attested`` release of one model's key."""

    model_id: int
    measurement: str
    launch_policy: str
    signing_public_key: str  # base64 of 32 raw bytes, as ``medval.trust.keys`` writes it
    window: timedelta = timedelta(minutes=5)  # how old the evidence may be
    clock_skew: timedelta = timedelta(seconds=30)  # how far ahead its clock may be


@dataclass(frozen=True)
class IssuedNonce:
    """What a verifier knows of a nonce it issued: for which model, to which site (""
    when it does not say), until when, and whether a release spent it already."""

    model_id: int
    site: str
    expires_at: datetime
    spent: bool = False


def check_nonce(
    nonce: str, issued: IssuedNonce | None, request: KeyReleaseRequest, now: datetime
) -> None:
    """Refuse evidence carrying ``nonce`` (issued as ``issued``, None if never) for
    ``request``: unknown, another model's or site's, replayed or expired, in one line."""
    name = f"nonce {nonce[:16]}"
    if issued is not None and issued.spent:
        raise nonce_replayed(nonce)
    if (
        issued is None
        or issued.model_id != request.model_id
        or (issued.site and issued.site != request.site)
    ):
        raise refusal(
            NonceUnknown,
            f"{name} was not issued by this verifier to {request.site} for model "
            f"{request.model_id}",
        )
    if _utc(now) >= _utc(issued.expires_at):
        raise refusal(NonceExpired, f"{name} expired at {timestamp(issued.expires_at)}")


def nonce_replayed(nonce: str) -> NonceReplayed:
    return refusal(NonceReplayed, f"nonce {nonce[:16]} was already used (a replayed document)")


class Nonces(Protocol):
    """Where a verifier's nonces are kept: this process's memory (``NonceBook``) or the
    server's database (``medval.server.services.attestation``)."""

    def spend(self, nonce: str, request: KeyReleaseRequest, now: datetime) -> None:
        """Use ``nonce`` once for ``request``, or refuse in one line (``check_nonce``)."""
        ...


@dataclass
class NonceBook:
    """Nonces a verifier issued, kept in this process's memory: fresh (256 random bits),
    for one model (and one site, if named), single use, each with an expiry."""

    lifetime: timedelta = timedelta(minutes=5)
    _issued: dict[str, IssuedNonce] = field(default_factory=dict)

    def issue(self, model_id: int, now: datetime, site: str = "") -> str:
        """A new nonce for evidence about ``model_id`` (from ``site``, if named)."""
        now = _utc(now)
        self._forget_before(now)
        nonce = secrets.token_hex(32)
        self._issued[nonce] = IssuedNonce(model_id, site, now + self.lifetime)
        return nonce

    def spend(self, nonce: str, request: KeyReleaseRequest, now: datetime) -> None:
        check_nonce(nonce, self._issued.get(nonce), request, now)
        self._issued[nonce] = replace(self._issued[nonce], spent=True)

    def _forget_before(self, now: datetime) -> None:
        # A spent nonce is kept until it would have expired: after that, evidence that
        # carries it is refused as unknown (and as too old by the time window).
        self._issued = {n: i for n, i in self._issued.items() if i.expires_at > now}


class AttestedVerifier:
    """``attested``: the key goes only to an approved site whose evidence is accepted."""

    def __init__(self, pins: AttestationPins, nonces: Nonces) -> None:
        key_id(pins.signing_public_key)  # a pinned key that is not one is one line, now
        self.pins = pins
        self.nonces = nonces

    @property
    def kind(self) -> KeyReleaseVerifierKind:
        return KeyReleaseVerifierKind.ATTESTED

    def check(self, request: KeyReleaseRequest, now: datetime) -> None:
        now = _utc(now)
        require_approved(request)
        if self.pins.model_id != request.model_id:
            raise refusal(
                KeyReleaseRefused,
                f"the attestation pins are for model {self.pins.model_id}, "
                f"not model {request.model_id}",
            )
        if request.evidence is None:
            raise refusal(
                EvidenceMissing,
                f"model {request.model_id} releases its key only against attestation "
                "evidence, and none was sent",
            )
        evidence = self._verified(request.evidence)
        self._check_content(evidence, request.model_id, now)
        self.nonces.spend(evidence.nonce, request, now)

    def _verified(self, document: bytes) -> Evidence:
        """The evidence in ``document``, once its signature verifies with the pinned key."""
        if len(document) > MAX_EVIDENCE_BYTES:
            raise refusal(EvidenceMalformed, f"the evidence is over {MAX_EVIDENCE_BYTES} bytes")
        try:
            envelope = _Envelope.model_validate_json(document)
        except ValidationError as exc:
            raise refusal(
                EvidenceMalformed,
                "the evidence is not a medval attestation document: "
                + describe_problems(exc.errors(), "not JSON"),
            ) from None
        try:
            message = rfc8785.dumps(envelope.payload)
        except rfc8785.CanonicalizationError as exc:
            raise refusal(EvidenceMalformed, f"the evidence has no canonical form: {exc}") from None
        if not signature_matches(self.pins.signing_public_key, envelope.signature, message):
            pinned = key_id(self.pins.signing_public_key)[:16]
            raise refusal(
                EvidenceSignatureInvalid,
                f"the evidence's signature does not verify with the pinned key {pinned}",
            )
        try:
            return Evidence.model_validate(envelope.payload)
        except ValidationError as exc:
            raise refusal(
                EvidenceMalformed,
                "the signed evidence is not a medval attestation document: "
                + describe_problems(exc.errors()),
            ) from None

    def _check_content(self, evidence: Evidence, model_id: int, now: datetime) -> None:
        pins = self.pins
        if evidence.model_id != model_id:
            raise refusal(
                EvidenceForAnotherModel,
                f"the evidence is for model {evidence.model_id}, not model {model_id}",
            )
        if evidence.measurement != pins.measurement:
            raise refusal(
                MeasurementMismatch,
                f"the runner's measurement {evidence.measurement[:16]} is not the pinned "
                f"{pins.measurement[:16]}",
            )
        if evidence.launch_policy != pins.launch_policy:
            raise refusal(
                LaunchPolicyMismatch,
                f"the launch policy {evidence.launch_policy} is not the pinned "
                f"{pins.launch_policy}",
            )
        made = _moment(evidence.reported_at)
        if made is None or not (now - pins.window <= made <= now + pins.clock_skew):
            raise refusal(
                EvidenceOutsideWindow,
                f"the evidence was made at {evidence.reported_at}, outside the "
                f"{int(pins.window.total_seconds())} s before {timestamp(now)}",
            )


def _utc(moment: datetime) -> datetime:
    """Naive values are taken as UTC, as ``timestamp`` does."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(text: str) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None
