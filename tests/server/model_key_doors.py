"""The access matrix's doors of private models' keys: encryption keys, a private model's
recipients, granting and withholding its key, and its release (see ``access_doors``)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from medval.trust.attestation import Evidence, sign_evidence
from medval.trust.key_wrapping import EncryptionKey, wrap_model_key
from medval.trust.keys import SigningKey
from medval.trust.signed_result import timestamp

from .access_doors import Caller, Door, World, _call, get, logged_in
from .conftest import Clock


def _private_model(w: World, key_release: str = "none") -> Any:
    """A new private model of the model owner's, approved on the world's benchmark."""
    sealed = {"sealed_hash": w.api.blob(w.vendor, w.name().encode()), "key_release": key_release}
    body = {
        "name": w.name(),
        "kind": "model",
        "archive_hash": hashlib.sha256(w.name().encode()).hexdigest(),
        "stage": "operation",
        "sealed": sealed,
    }
    model = w.vendor.ok("post", "/cubes", body)
    w.api.associate(w.vendor, w.benchmark, "model", model, w.bench)
    return model


def _wrapped_for_hospital(w: World, model: Any) -> dict[str, str]:
    """The data owner's new encryption key, and the model's key wrapped to it."""
    key = EncryptionKey.generate()
    w.hospital.ok("post", "/users/me/encryption-keys", {"public_key": key.public_key})
    sealed_hash = model["sealed"]["sealed_hash"]
    return {
        "key_id": key.key_id,
        "wrapped_key": wrap_model_key(b"k" * 32, key.public_key, sealed_hash),
    }


def _grant(w: World, c: Caller) -> httpx.Response:
    model = _private_model(w)
    body = _wrapped_for_hospital(w, model)
    return _call("PUT", f"/cubes/{model['id']}/key-recipients/{w.hospital.name}", c, json=body)


def _withhold(w: World, c: Caller) -> httpx.Response:
    model = _private_model(w)
    return _call("DELETE", f"/cubes/{model['id']}/key-recipients/{w.hospital.name}", c)


def _released(w: World, c: Caller) -> httpx.Response:
    model = _private_model(w)
    body = _wrapped_for_hospital(w, model)
    w.vendor.ok("put", f"/cubes/{model['id']}/key-recipients/{w.hospital.name}", body)
    return _call("GET", f"/cubes/{model['id']}/released-key", c)


def _pins(attester: SigningKey) -> dict[str, str]:
    return {
        "measurement": "a1" * 48,
        "launch_policy": "0x30000",
        "signing_public_key": attester.public_key,
    }


def _attested(w: World) -> tuple[Any, SigningKey]:
    """A new attested private model, pinned, its key wrapped for the data owner."""
    model, attester = _private_model(w, "attested"), SigningKey.generate()
    w.vendor.ok("put", f"/cubes/{model['id']}/attestation-pins", _pins(attester))
    body = _wrapped_for_hospital(w, model)
    w.vendor.ok("put", f"/cubes/{model['id']}/key-recipients/{w.hospital.name}", body)
    return model, attester


def _released_for_evidence(w: World, c: Caller) -> httpx.Response:
    model, attester = _attested(w)
    issued = _call("POST", f"/cubes/{model['id']}/attestation-nonces", c)
    nonce = issued.json()["nonce"] if issued.status_code == 201 else "c3" * 32
    evidence = Evidence(
        model_id=model["id"],
        measurement="a1" * 48,
        launch_policy="0x30000",
        nonce=nonce,
        reported_at=timestamp(Clock().now),  # the matrix's app runs on a test clock
    )
    body = {"evidence": sign_evidence(evidence, attester).decode()}
    return _call("POST", f"/cubes/{model['id']}/released-key", c, json=body)


def _new_key(w: World, c: Caller) -> httpx.Response:
    body = {"public_key": EncryptionKey.generate().public_key}
    return _call("POST", "/users/me/encryption-keys", c, json=body)


def model_key_doors() -> list[Door]:
    owner_only = logged_in(403, vendor=200)
    return [
        Door(
            "GET",
            "/api/v1/users/me/encryption-keys",
            "",
            get(lambda w: "/users/me/encryption-keys"),
            logged_in(200),
        ),
        Door("POST", "/api/v1/users/me/encryption-keys", "", _new_key, logged_in(201)),
        Door(
            "GET",
            "/api/v1/cubes/{cube_id}/key-recipients",
            "a private model's",
            lambda w, c: _call("GET", f"/cubes/{_private_model(w)['id']}/key-recipients", c),
            owner_only,
        ),
        Door(
            "PUT",
            "/api/v1/cubes/{cube_id}/key-recipients/{username}",
            "the approved data owner",
            _grant,
            owner_only,
        ),
        Door(
            "DELETE",
            "/api/v1/cubes/{cube_id}/key-recipients/{username}",
            "the approved data owner",
            _withhold,
            owner_only,
        ),
        Door(
            "GET",
            "/api/v1/cubes/{cube_id}/released-key",
            "wrapped for the data owner",
            _released,
            logged_in(403, hospital=200),
        ),
        Door(
            "POST",
            "/api/v1/cubes/{cube_id}/released-key",
            "an attested model's, for evidence",
            _released_for_evidence,
            logged_in(403, hospital=200),
        ),
        Door(
            "GET",
            "/api/v1/cubes/{cube_id}/attestation-pins",
            "an attested model's",
            lambda w, c: _call("GET", f"/cubes/{_attested(w)[0]['id']}/attestation-pins", c),
            logged_in(200),
        ),
        Door(
            "PUT",
            "/api/v1/cubes/{cube_id}/attestation-pins",
            "an attested model's",
            lambda w, c: _call(
                "PUT",
                f"/cubes/{_attested(w)[0]['id']}/attestation-pins",
                c,
                json=_pins(SigningKey.generate()),
            ),
            owner_only,
        ),
        Door(
            "POST",
            "/api/v1/cubes/{cube_id}/attestation-nonces",
            "an attested model's",
            lambda w, c: _call("POST", f"/cubes/{_attested(w)[0]['id']}/attestation-nonces", c),
            logged_in(403, hospital=201),
        ),
    ]
