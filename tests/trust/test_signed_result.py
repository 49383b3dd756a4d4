"""The canonical form of a result, and its signature: stable where it should be, broken
by any change of what it covers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785

from medval.core.result_schemas import ResultPublic
from medval.trust.keys import SigningKey, key_id, signature_matches
from medval.trust.signed_result import canonical_result, signature_verifies, signed_payload

from .results import NOW, content, published


def test_the_canonical_form_is_rfc_8785_of_the_payload() -> None:
    key = SigningKey.generate()
    text = canonical_result(content(), key.key_id).decode()
    assert text.startswith('{"benchmark_id":7,"dataset_id":1,"document":{')
    assert '"metrics":{"auroc":{"lower":0.75,"upper":0.8500000000000001,"value":0.8}}' in text
    assert '"executed_at":"2024-05-01T08:55:00.123456Z"' in text
    assert f'"key_id":"{key.key_id}"' in text
    assert '"model_image":"sha256:' + "e" * 64 + '"' in text
    assert '"type":"medval.result/v1"' in text
    assert json.loads(text) == signed_payload(content(), key.key_id)


def test_the_canonical_form_does_not_depend_on_key_order_or_number_form() -> None:
    key = SigningKey.generate()
    as_sent = signed_payload(content(), key.key_id)
    # The same result as another JSON text: keys reversed, 0.8 as 0.80, 120 as 120.0,
    # the time in another zone.
    reordered = dict(reversed(list(json.loads(json.dumps(as_sent)).items())))
    text = json.dumps(reordered).replace('"value": 0.8', '"value": 0.80')
    text = text.replace('"n_cases": 120', '"n_cases": 120.0')
    assert '"value": 0.80' in text and '"n_cases": 120.0' in text
    back = json.loads(text)
    shifted = (NOW - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=2)))
    again = content(executed_at=shifted)
    assert canonical_result(again, key.key_id) == canonical_result(content(), key.key_id)
    assert rfc8785.dumps(back) == canonical_result(content(), key.key_id)


def test_a_signature_verifies_with_its_key_and_no_other() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    result = published(key)
    assert signature_verifies(result, key.public_key)
    assert not signature_verifies(result, other.public_key)
    assert key_id(key.public_key) == key.key_id != other.key_id
    assert not signature_matches(key.public_key, "not base64!", b"x")


@pytest.mark.parametrize(
    "tamper",
    [
        {"document": {"n_cases": 120, "n_positive": 30, "metrics": {"auroc": {"value": 0.9}}}},
        {"provenance": {"dataset_hash": "f" * 64}},
        {"provenance": {"model_image": None}},
        {"executed_at": datetime(2024, 5, 1, 8, 55, tzinfo=UTC)},
        {"benchmark_id": 8},
        {"dataset_id": 2},
        {"model_id": 4},
        {"status": "failed", "document": None, "failure": "task 'infer' failed"},
    ],
    ids=["metric", "dataset-hash", "image", "time", "benchmark", "dataset", "model", "status"],
)
def test_any_change_of_what_is_covered_breaks_the_signature(tamper: dict[str, object]) -> None:
    key = SigningKey.generate()
    result = published(key).model_dump()
    for name, value in tamper.items():
        if isinstance(value, dict) and isinstance(result[name], dict):
            result[name] = {**result[name], **value}
        else:
            result[name] = value
    changed = ResultPublic.model_validate(result)
    assert not signature_verifies(changed, key.public_key)


def test_a_signature_names_its_key_inside_what_it_covers() -> None:
    """Another key id on the record (even with the same key) does not verify."""
    key = SigningKey.generate()
    result = published(key)
    relabelled = result.model_copy(update={"key_id": "0" * 64})
    assert not signature_verifies(relabelled, key.public_key)
    assert not signature_verifies(result.model_copy(update={"signature": None}), key.public_key)


def test_a_key_survives_its_pem_file_form() -> None:
    key = SigningKey.generate()
    again = SigningKey.from_pem(key.to_pem(), "the key file")
    assert (again.key_id, again.public_key) == (key.key_id, key.public_key)
    assert signature_verifies(published(key), again.public_key)
