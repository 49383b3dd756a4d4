"""The HTTP calls of private models' keys (sites' encryption keys, a model's recipients,
granting, withholding and releasing its wrapped key, and its attestation pins and
nonces), grouped apart from
``MedvalClient``'s own: ``client.model_keys.recipients(...)``. They go through the
client's one request method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.core import api
from medval.core.attestation_schemas import (
    AttestationNoncePublic,
    AttestationPinsCreate,
    AttestationPinsPublic,
    KeyReleaseEvidence,
)
from medval.core.model_key_schemas import (
    EncryptionKeyCreate,
    EncryptionKeyPublic,
    ModelKeyRecipient,
    WrappedModelKeyCreate,
    WrappedModelKeyPublic,
)

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class ModelKeyCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def my_encryption_keys(self) -> list[EncryptionKeyPublic]:
        return self._client.call(list[EncryptionKeyPublic], "GET", api.MY_ENCRYPTION_KEYS)

    def register_encryption_key(self, public_key: str) -> EncryptionKeyPublic:
        body = EncryptionKeyCreate(public_key=public_key)
        return self._client.call(EncryptionKeyPublic, "POST", api.MY_ENCRYPTION_KEYS, body=body)

    def recipients(self, model_id: int) -> list[ModelKeyRecipient]:
        path = api.MODEL_KEY_RECIPIENTS.format(cube_id=model_id)
        return self._client.call(list[ModelKeyRecipient], "GET", path)

    def grant(
        self, model_id: int, username: str, key_id: str, wrapped_key: str
    ) -> WrappedModelKeyPublic:
        path = api.MODEL_KEY_GRANT.format(cube_id=model_id, username=username)
        body = WrappedModelKeyCreate(key_id=key_id, wrapped_key=wrapped_key)
        return self._client.call(WrappedModelKeyPublic, "PUT", path, body=body)

    def withhold(self, model_id: int, username: str) -> ModelKeyRecipient:
        path = api.MODEL_KEY_GRANT.format(cube_id=model_id, username=username)
        return self._client.call(ModelKeyRecipient, "DELETE", path)

    def released(self, model_id: int, evidence: str | None = None) -> WrappedModelKeyPublic:
        """The caller's wrapped key; with ``evidence`` for a model released ``attested``."""
        path = api.RELEASED_MODEL_KEY.format(cube_id=model_id)
        if evidence is None:
            return self._client.call(WrappedModelKeyPublic, "GET", path)
        body = KeyReleaseEvidence(evidence=evidence)
        return self._client.call(WrappedModelKeyPublic, "POST", path, body=body)

    def attestation_pins(self, model_id: int) -> AttestationPinsPublic:
        path = api.ATTESTATION_PINS.format(cube_id=model_id)
        return self._client.call(AttestationPinsPublic, "GET", path)

    def pin_attestation(self, model_id: int, pins: AttestationPinsCreate) -> AttestationPinsPublic:
        path = api.ATTESTATION_PINS.format(cube_id=model_id)
        return self._client.call(AttestationPinsPublic, "PUT", path, body=pins)

    def attestation_nonce(self, model_id: int) -> AttestationNoncePublic:
        path = api.ATTESTATION_NONCES.format(cube_id=model_id)
        return self._client.call(AttestationNoncePublic, "POST", path)
