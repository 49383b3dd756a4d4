"""The access matrix's doors of private models' keys: encryption keys, a private model's
recipients, granting and withholding its key, and its release (see ``access_doors``)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from medval.trust.key_wrapping import EncryptionKey, wrap_model_key

from .access_doors import Caller, Door, World, _call, get, logged_in


def _private_model(w: World) -> Any:
    """A new private model of the model owner's, approved on the world's benchmark."""
    body = {
        "name": w.name(),
        "kind": "model",
        "archive_hash": hashlib.sha256(w.name().encode()).hexdigest(),
        "stage": "operation",
        "sealed": {"sealed_hash": w.api.blob(w.vendor, w.name().encode()), "key_release": "none"},
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
    ]
