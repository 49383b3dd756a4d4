"""The canonical form of a result, and signing and checking it.

What is signed is rebuilt from the fields of a result as the API returns it
(``ResultPublic``) or as the client sends it (``ResultCreate``): the benchmark, dataset
and model ids, the status, the metrics document or the failure, the provenance (the
dataset's hash, every cube archive's hash and image ID that ran), when it ran, and the
id of the signing key. Its canonical form is RFC 8785 (JSON Canonicalization Scheme,
the ``rfc8785`` package): keys sorted, numbers in one form (``1.0`` and ``1`` alike,
``0.80`` as ``0.8``), so the same result gives the same bytes wherever it is rebuilt.
Imports only ``medval.core``, ``medval.trust.keys`` and ``rfc8785``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import rfc8785

from medval.core.errors import SignatureInvalid
from medval.core.result_schemas import ResultContent, ResultCreate, ResultPublic
from medval.trust.keys import SigningKey, signature_matches

# Names what the bytes are, so a signature over them means nothing anywhere else.
PAYLOAD_TYPE = "medval.result/v1"

__all__ = [
    "PAYLOAD_TYPE",
    "canonical_result",
    "sign_result",
    "signature_verifies",
    "signed_payload",
    "timestamp",
]


def timestamp(moment: datetime | None) -> str | None:
    """One text per instant: UTC, microseconds, ``Z`` (naive values are taken as UTC)."""
    if moment is None:
        return None
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_payload(result: ResultContent | ResultPublic, key_id: str) -> dict[str, Any]:
    """What a result's signature covers, as plain JSON values.

    Fields that are None inside the documents are left out (``exclude_none``), so that a
    field added later with a None default does not change what older results signed.
    """
    return {
        "type": PAYLOAD_TYPE,
        "benchmark_id": result.benchmark_id,
        "dataset_id": result.dataset_id,
        "model_id": result.model_id,
        "status": result.status.value,
        "document": (
            None
            if result.document is None
            else result.document.model_dump(mode="json", exclude_none=True)
        ),
        "failure": result.failure,
        "provenance": result.provenance.model_dump(mode="json", exclude_none=True),
        "executed_at": timestamp(result.executed_at),
        "key_id": key_id,
    }


def canonical_result(result: ResultContent | ResultPublic, key_id: str) -> bytes:
    """The bytes that are signed: the payload in RFC 8785 form."""
    try:
        return rfc8785.dumps(signed_payload(result, key_id))
    except rfc8785.CanonicalizationError as exc:  # a number JSON cannot hold exactly
        raise SignatureInvalid(f"the result has no canonical form: {exc}") from exc


def sign_result(result: ResultContent, key: SigningKey) -> ResultCreate:
    """The upload of ``result``, signed by ``key``."""
    message = canonical_result(result, key.key_id)
    fields = {name: getattr(result, name) for name in ResultContent.model_fields}
    return ResultCreate.model_validate(
        {**fields, "key_id": key.key_id, "signature": key.sign(message)}
    )


def signature_verifies(result: ResultCreate | ResultPublic, public_key: str) -> bool:
    """Whether the result's signature is ``public_key``'s over its canonical form."""
    if result.key_id is None or result.signature is None:
        return False
    try:
        message = canonical_result(result, result.key_id)
    except SignatureInvalid:
        return False
    return signature_matches(public_key, result.signature, message)
