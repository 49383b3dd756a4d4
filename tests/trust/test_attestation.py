"""The ``attested`` key-release verifier: a good document is accepted once, and each way a
document can be wrong is refused with its own one line. No TEE runs here: the evidence is
medval's stand-in document, signed by a key the test holds in the hardware's place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785

from medval.core.errors import InvalidInput, KeyReleaseRefused
from medval.trust.attestation import (
    AttestationPins,
    AttestedVerifier,
    Evidence,
    NonceBook,
    sign_evidence,
)
from medval.trust.key_release import (
    EvidenceForAnotherModel,
    EvidenceMalformed,
    EvidenceMissing,
    EvidenceOutsideWindow,
    EvidenceSignatureInvalid,
    KeyReleaseRequest,
    KeyReleaseVerifier,
    KeyReleaseVerifierKind,
    LaunchPolicyMismatch,
    MeasurementMismatch,
    NonceExpired,
    NonceReplayed,
    NonceUnknown,
    SiteNotApproved,
)
from medval.trust.keys import SigningKey
from medval.trust.signed_result import timestamp

NOW = datetime(2026, 12, 6, 1, 30, tzinfo=UTC)
MEASUREMENT = "a1" * 48  # 384 bits, as SEV-SNP and TDX measure
OTHER_MEASUREMENT = "b2" * 48
POLICY = "0x30000"  # SEV-SNP's policy word with debugging off
MODEL = 7


@dataclass
class Attester:
    """The verifier with its pins, and the key that signs evidence in the hardware's place."""

    key: SigningKey
    nonces: NonceBook
    verifier: AttestedVerifier

    def document(self, nonce: str, key: SigningKey | None = None, **fields: Any) -> bytes:
        values: dict[str, Any] = {
            "model_id": MODEL,
            "measurement": MEASUREMENT,
            "launch_policy": POLICY,
            "nonce": nonce,
            "reported_at": timestamp(NOW),
            **fields,
        }
        return sign_evidence(Evidence(**values), key or self.key)

    def check(self, document: bytes | None, at: datetime = NOW, model_id: int = MODEL) -> None:
        self.verifier.check(KeyReleaseRequest(model_id, "hospital-a", True, document), at)


@pytest.fixture
def attester() -> Attester:
    key = SigningKey.generate()
    nonces = NonceBook()
    pins = AttestationPins(MODEL, MEASUREMENT, POLICY, key.public_key)
    return Attester(key, nonces, AttestedVerifier(pins, nonces))


def test_a_good_document_is_accepted(attester: Attester) -> None:
    verifier: KeyReleaseVerifier = attester.verifier
    assert verifier.kind is KeyReleaseVerifierKind.ATTESTED
    attester.check(attester.document(attester.nonces.issue(MODEL, NOW)))


def test_the_signature_covers_the_canonical_form_not_the_text(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    sent = json.loads(attester.document(nonce))
    # The same payload as another JSON text: keys in reverse order, other spacing.
    sent["payload"] = dict(reversed(list(sent["payload"].items())))
    attester.check(json.dumps(sent, indent=3).encode())


def test_a_wrong_measurement_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(MeasurementMismatch) as refused:
        attester.check(attester.document(nonce, measurement=OTHER_MEASUREMENT))
    assert str(refused.value) == (
        "key release refused: the runner's measurement b2b2b2b2b2b2b2b2 is not the "
        "pinned a1a1a1a1a1a1a1a1"
    )


def test_a_replayed_nonce_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    document = attester.document(nonce)
    attester.check(document)
    with pytest.raises(NonceReplayed) as refused:
        attester.check(document, at=NOW + timedelta(seconds=5))
    assert str(refused.value) == (
        f"key release refused: nonce {nonce[:16]} was already used (a replayed document)"
    )


def test_a_bad_signature_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    pinned = attester.key.key_id[:16]
    message = (
        f"key release refused: the evidence's signature does not verify with the pinned "
        f"key {pinned}"
    )
    with pytest.raises(EvidenceSignatureInvalid) as refused:
        attester.check(attester.document(nonce, key=SigningKey.generate()))
    assert str(refused.value) == message
    # Changed after it was signed: the signature is checked before the measurement.
    tampered = json.loads(attester.document(nonce))
    tampered["payload"]["measurement"] = OTHER_MEASUREMENT
    with pytest.raises(EvidenceSignatureInvalid) as refused:
        attester.check(json.dumps(tampered).encode())
    assert str(refused.value) == message


def test_a_refused_document_does_not_spend_the_nonce(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(EvidenceSignatureInvalid):
        attester.check(attester.document(nonce, key=SigningKey.generate()))
    with pytest.raises(MeasurementMismatch):
        attester.check(attester.document(nonce, measurement=OTHER_MEASUREMENT))
    attester.check(attester.document(nonce))


def test_an_expired_nonce_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    later = NOW + timedelta(minutes=6)  # the book's nonces live five minutes
    with pytest.raises(NonceExpired) as refused:
        attester.check(attester.document(nonce, reported_at=timestamp(later)), at=later)
    assert str(refused.value) == (
        f"key release refused: nonce {nonce[:16]} expired at 2026-12-06T01:35:00.000000Z"
    )


def test_an_unknown_nonce_is_refused(attester: Attester) -> None:
    made_up = "c3" * 32
    with pytest.raises(NonceUnknown) as refused:
        attester.check(attester.document(made_up))
    assert str(refused.value) == (
        "key release refused: nonce c3c3c3c3c3c3c3c3 was not issued by this verifier to "
        "hospital-a for model 7"
    )
    # Issued, but for evidence about another model.
    nonce = attester.nonces.issue(MODEL + 1, NOW)
    with pytest.raises(NonceUnknown):
        attester.check(attester.document(nonce))
    # Issued for this model, but to another site.
    nonce = attester.nonces.issue(MODEL, NOW, site="hospital-b")
    with pytest.raises(NonceUnknown):
        attester.check(attester.document(nonce))
    attester.check(attester.document(attester.nonces.issue(MODEL, NOW, site="hospital-a")))


def test_a_document_for_another_model_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(EvidenceForAnotherModel) as refused:
        attester.check(attester.document(nonce, model_id=8))
    assert str(refused.value) == "key release refused: the evidence is for model 8, not model 7"
    # A good document for model 7, sent when asking for model 8's key.
    with pytest.raises(KeyReleaseRefused) as refused:
        attester.check(attester.document(nonce), model_id=8)
    assert str(refused.value) == (
        "key release refused: the attestation pins are for model 7, not model 8"
    )


def test_another_launch_policy_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(LaunchPolicyMismatch) as refused:
        attester.check(attester.document(nonce, launch_policy="0x70000"))
    assert str(refused.value) == (
        "key release refused: the launch policy 0x70000 is not the pinned 0x30000"
    )


@pytest.mark.parametrize(
    "made", [NOW - timedelta(minutes=5, seconds=1), NOW + timedelta(seconds=31)]
)
def test_evidence_outside_the_time_window_is_refused(attester: Attester, made: datetime) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(EvidenceOutsideWindow) as refused:
        attester.check(attester.document(nonce, reported_at=timestamp(made)))
    assert str(refused.value) == (
        f"key release refused: the evidence was made at {timestamp(made)}, outside the "
        "300 s before 2026-12-06T01:30:00.000000Z"
    )


def test_an_unapproved_site_gets_no_key_whatever_it_sends(attester: Attester) -> None:
    document = attester.document(attester.nonces.issue(MODEL, NOW))
    request = KeyReleaseRequest(MODEL, "hospital-z", False, document)
    with pytest.raises(SiteNotApproved) as refused:
        attester.verifier.check(request, NOW)
    assert str(refused.value) == "key release refused: site hospital-z is not approved for model 7"
    attester.check(document)  # the nonce is still good for the approved site


def test_no_evidence_is_refused(attester: Attester) -> None:
    with pytest.raises(EvidenceMissing) as refused:
        attester.check(None)
    assert str(refused.value) == (
        "key release refused: model 7 releases its key only against attestation evidence, "
        "and none was sent"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "the evidence is not a medval attestation document: Invalid JSON"),
        (b'{"payload": {}}', "the evidence is not a medval attestation document: signature:"),
    ],
)
def test_a_document_that_is_not_one_is_refused(
    attester: Attester, document: bytes, message: str
) -> None:
    with pytest.raises(EvidenceMalformed) as refused:
        attester.check(document)
    assert str(refused.value).startswith(f"key release refused: {message}")
    assert "\n" not in str(refused.value)


def test_a_signed_payload_with_an_unknown_field_is_refused(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    payload = {**json.loads(attester.document(nonce))["payload"], "debug": True}
    document = json.dumps(
        {"payload": payload, "signature": attester.key.sign(rfc8785.dumps(payload))}
    ).encode()
    with pytest.raises(EvidenceMalformed) as refused:
        attester.check(document)
    assert str(refused.value) == (
        "key release refused: the signed evidence is not a medval attestation document: "
        "debug: Extra inputs are not permitted"
    )


def test_every_refusal_is_one_line_with_the_key_release_exit_code(attester: Attester) -> None:
    nonce = attester.nonces.issue(MODEL, NOW)
    with pytest.raises(KeyReleaseRefused) as refused:
        attester.check(attester.document(nonce, measurement=OTHER_MEASUREMENT))
    error = refused.value
    assert (error.code, error.exit_code, error.http_status) == ("key_release_refused", 16, 403)
    assert "\n" not in error.message


def test_a_pinned_key_that_is_not_one_is_refused_when_pinned() -> None:
    pins = AttestationPins(MODEL, MEASUREMENT, POLICY, "not a key")
    with pytest.raises(InvalidInput) as refused:
        AttestedVerifier(pins, NonceBook())
    assert str(refused.value) == "public_key: not an Ed25519 public key (base64 of 32 bytes)"
