"""The audit-trail cases of private models' keys' state-changing routes (see
``test_audit_trail``): each a successful call, made ready in the ``world`` fixture."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api

from medval.core import api as routes
from medval.core.api import PREFIX
from medval.trust.key_wrapping import EncryptionKey, wrap_model_key


def _private_model(api: Api, w: dict[str, Any]) -> Any:
    body = {
        "name": "private-model",
        "kind": "model",
        "archive_hash": hashlib.sha256(b"in clear").hexdigest(),
        "stage": "operation",
        "sealed": {"sealed_hash": api.blob(w["vendor"]), "key_release": "none"},
    }
    model = w["vendor"].ok("post", routes.CUBES, body)
    api.associate(w["vendor"], w["benchmark"], "model", model, w["bench"])
    return model


def _register_encryption_key(api: Api, w: dict[str, Any]) -> Change:
    body = {"public_key": EncryptionKey.generate().public_key}
    return Change(
        "stranger", "encryption_key", lambda: w["stranger"].post(routes.MY_ENCRYPTION_KEYS, body)
    )


def _grant(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w)
    key = EncryptionKey.generate()
    w["hospital"].ok("post", routes.MY_ENCRYPTION_KEYS, {"public_key": key.public_key})
    body = {
        "key_id": key.key_id,
        "wrapped_key": wrap_model_key(b"k" * 32, key.public_key, model["sealed"]["sealed_hash"]),
    }
    path = routes.MODEL_KEY_GRANT.format(cube_id=model["id"], username="hospital")
    return Change("vendor", "wrapped_model_key", lambda: w["vendor"].put(path, body))


def _withhold(api: Api, w: dict[str, Any]) -> Change:
    model = _private_model(api, w)
    path = PREFIX + routes.MODEL_KEY_GRANT.format(cube_id=model["id"], username="hospital")
    headers = w["vendor"].headers
    return Change("vendor", "wrapped_model_key", lambda: api.client.delete(path, headers=headers))


MODEL_KEY_CASES: dict[tuple[str, str], Case] = {
    ("POST", routes.MY_ENCRYPTION_KEYS): _register_encryption_key,
    ("PUT", routes.MODEL_KEY_GRANT): _grant,
    ("DELETE", routes.MODEL_KEY_GRANT): _withhold,
}
