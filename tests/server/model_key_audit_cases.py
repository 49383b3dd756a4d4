"""The audit-trail cases of the state-changing routes of private models' keys and their
attestation (see ``test_audit_trail``): each a successful call, made ready in the
``world`` fixture."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api, Clock

from medval.core import api as routes
from medval.core.api import PREFIX
from medval.trust.attestation import Evidence, sign_evidence
from medval.trust.key_wrapping import EncryptionKey, wrap_model_key
from medval.trust.keys import SigningKey
from medval.trust.signed_result import timestamp


def _private_model(api: Api, w: dict[str, Any], key_release: str = "none") -> Any:
    body = {
        "name": "private-model",
        "kind": "model",
        "archive_hash": hashlib.sha256(b"in clear").hexdigest(),
        "stage": "operation",
        "sealed": {"sealed_hash": api.blob(w["vendor"]), "key_release": key_release},
    }
    model = w["vendor"].ok("post", routes.CUBES, body)
    api.associate(w["vendor"], w["benchmark"], "model", model, w["bench"])
    return model


def _register_encryption_key(api: Api, w: dict[str, Any]) -> Change:
    body = {"public_key": EncryptionKey.generate().public_key}
    return Change(
        "stranger", "encryption_key", lambda: w["stranger"].post(routes.MY_ENCRYPTION_KEYS, body)
    )


def _wrapped_for_hospital(w: dict[str, Any], model: Any) -> dict[str, str]:
    key = EncryptionKey.generate()
    w["hospital"].ok("post", routes.MY_ENCRYPTION_KEYS, {"public_key": key.public_key})
    return {
        "key_id": key.key_id,
        "wrapped_key": wrap_model_key(b"k" * 32, key.public_key, model["sealed"]["sealed_hash"]),
    }


def _grant_to_hospital(w: dict[str, Any], model: Any) -> None:
    path = routes.MODEL_KEY_GRANT.format(cube_id=model["id"], username="hospital")
    w["vendor"].ok("put", path, _wrapped_for_hospital(w, model))


def _grant(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w)
    body = _wrapped_for_hospital(w, model)
    path = routes.MODEL_KEY_GRANT.format(cube_id=model["id"], username="hospital")
    return Change("vendor", "wrapped_model_key", lambda: w["vendor"].put(path, body))


def _withhold(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w)
    path = PREFIX + routes.MODEL_KEY_GRANT.format(cube_id=model["id"], username="hospital")
    headers = w["vendor"].headers
    return Change("vendor", "wrapped_model_key", lambda: api.client.delete(path, headers=headers))


def _pins(attester: SigningKey) -> dict[str, str]:
    return {
        "measurement": "a1" * 48,
        "launch_policy": "0x30000",
        "signing_public_key": attester.public_key,
    }


def _pin(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w, "attested")
    path = routes.ATTESTATION_PINS.format(cube_id=model["id"])
    body = _pins(SigningKey.generate())
    return Change("vendor", "attestation_pins", lambda: w["vendor"].put(path, body))


def _issue_nonce(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w, "attested")
    path = routes.ATTESTATION_NONCES.format(cube_id=model["id"])
    return Change("hospital", "attestation_nonce", lambda: w["hospital"].post(path, None))


def _release_for_evidence(api: Api, w: dict[str, Any]) -> Change:
    """The release spends the evidence's nonce: that is its change."""
    model, attester = _private_model(api, w, "attested"), SigningKey.generate()
    w["vendor"].ok("put", routes.ATTESTATION_PINS.format(cube_id=model["id"]), _pins(attester))
    _grant_to_hospital(w, model)
    nonce = w["hospital"].post(routes.ATTESTATION_NONCES.format(cube_id=model["id"]), None)
    evidence = Evidence(
        model_id=model["id"],
        measurement="a1" * 48,
        launch_policy="0x30000",
        nonce=nonce.json()["nonce"],
        reported_at=timestamp(Clock().now),  # the app runs on the test clock
    )
    body = {"evidence": sign_evidence(evidence, attester).decode()}
    path = routes.RELEASED_MODEL_KEY.format(cube_id=model["id"])
    return Change("hospital", "attestation_nonce", lambda: w["hospital"].post(path, body))


MODEL_KEY_CASES: dict[tuple[str, str], Case] = {
    ("POST", routes.MY_ENCRYPTION_KEYS): _register_encryption_key,
    ("PUT", routes.MODEL_KEY_GRANT): _grant,
    ("DELETE", routes.MODEL_KEY_GRANT): _withhold,
    ("PUT", routes.ATTESTATION_PINS): _pin,
    ("POST", routes.ATTESTATION_NONCES): _issue_nonce,
    ("POST", routes.RELEASED_MODEL_KEY): _release_for_evidence,
}
