"""A world with a private model approved on its benchmark, two approved sites with
encryption keys and a stranger: shared by the tests of model keys and their attested
release."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx
import pytest

from medval.trust.key_wrapping import EncryptionKey, wrap_model_key

from .conftest import Api, User

MODEL_KEY = bytes.fromhex("5e" * 16 + "c0" * 16)  # the canary: a known model key


def error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def delete(user: User, path: str) -> httpx.Response:
    return user.http.client.delete("/api/v1" + path, headers=user.headers)


def encryption_key(user: User) -> EncryptionKey:
    key = EncryptionKey.generate()
    user.ok("post", "/users/me/encryption-keys", {"public_key": key.public_key})
    return key


def private_model(api: Api, owner: User, key_release: str = "none") -> Any:
    body = {
        "name": f"private-{os.urandom(3).hex()}",
        "kind": "model",
        "archive_hash": hashlib.sha256(b"the archive in clear").hexdigest(),
        "stage": "operation",
        "sealed": {"sealed_hash": api.blob(owner), "key_release": key_release},
    }
    return owner.ok("post", "/cubes", body)


@pytest.fixture
def keyed(world: dict[str, Any], api: Api) -> dict[str, Any]:
    """The world plus: a second approved site (clinic), a private model of the vendor's
    approved on the benchmark, and encryption keys for hospital, clinic and stranger."""
    bench, benchmark = world["bench"], world["benchmark"]
    clinic = api.user("clinic")
    dataset = api.dataset(clinic, benchmark)
    api.associate(clinic, benchmark, "dataset", dataset, bench)
    model = private_model(api, world["vendor"])
    api.associate(world["vendor"], benchmark, "model", model, bench)
    keys = {name: encryption_key(world[name]) for name in ("hospital", "stranger")}
    keys["clinic"] = encryption_key(clinic)
    return world | {"clinic": clinic, "private": model, "keys": keys}


def grant(keyed: dict[str, Any], site: str, key: EncryptionKey | None = None) -> httpx.Response:
    model = keyed["private"]
    key = key or keyed["keys"][site]
    body = {
        "key_id": key.key_id,
        "wrapped_key": wrap_model_key(MODEL_KEY, key.public_key, model["sealed"]["sealed_hash"]),
    }
    path = f"/cubes/{model['id']}/key-recipients/{site}"
    return keyed["vendor"].put(path, body)


def released(keyed: dict[str, Any], site: str) -> httpx.Response:
    return keyed[site].get(f"/cubes/{keyed['private']['id']}/released-key")
