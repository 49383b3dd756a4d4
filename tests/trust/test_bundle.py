"""The offline verifier: every record that does not verify is named, with why."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from medval.core.errors import InvalidInput
from medval.trust.bundle import verify_bundle
from medval.trust.keys import SigningKey

from .results import NOW, bundle, key_entry, published

A, B = "result 1 (model logistic on dataset site-1)", "result 2 (model logistic on dataset site-2)"


def _two_results() -> tuple[SigningKey, dict[str, Any]]:
    key = SigningKey.generate()
    results = [published(key, 1, dataset_id=1), published(key, 2, dataset_id=2, auroc=0.7)]
    return key, bundle(results, [key_entry(key)])


def _lines(document: dict[str, Any]) -> list[str]:
    return [p.line for p in verify_bundle(json.dumps(document)).problems]


def test_an_untouched_bundle_verifies() -> None:
    _, document = _two_results()
    checked = verify_bundle(json.dumps(document))
    assert checked.problems == []
    assert checked.summary == "all 2 results and 1 keys verify; no audit entries"
    assert document["audit"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("document", "metrics", "auroc", "value"), 0.95),
        (("document", "n_cases"), 1200),
        (("provenance", "dataset_hash"), "f" * 64),
        (("provenance", "evaluator_hash"), "f" * 64),
        (("executed_at",), "2024-05-01T08:56:00Z"),
        (("model_id",), 4),
    ],
    ids=["metric", "count", "dataset-hash", "cube-hash", "time", "model"],
)
def test_a_changed_field_is_named_by_its_record(field: tuple[str, ...], value: object) -> None:
    key, document = _two_results()
    target = document["results"][1]
    for part in field[:-1]:
        target = target[part]
    target[field[-1]] = value
    assert _lines(document) == [
        f"{B}: the signature by key {key.key_id[:16]} does not match the result's content "
        "(changed after it was signed)"
    ]
    checked = verify_bundle(json.dumps(document))
    assert checked.summary == ("1 of 2 results and 0 of 1 keys do not verify; no audit entries")


def test_a_swapped_key_is_named() -> None:
    _, document = _two_results()
    other = SigningKey.generate()
    # The record claims another key of the same owner, which the bundle holds.
    document["keys"].append(key_entry(other).model_dump(mode="json"))
    document["results"][0]["key_id"] = other.key_id
    assert _lines(document) == [
        f"{A}: the signature by key {other.key_id[:16]} does not match the result's content "
        "(changed after it was signed)"
    ]
    # A key that is not in the bundle at all.
    document["results"][0]["key_id"] = "0" * 64
    assert _lines(document) == [f"{A}: signed by key {'0' * 16}, which the bundle does not hold"]


def test_a_replaced_public_key_is_named_and_so_is_what_it_signed() -> None:
    key, document = _two_results()
    document["keys"][0]["public_key"] = SigningKey.generate().public_key
    short = key.key_id[:16]
    assert _lines(document) == [
        f"key {short} of hospital: its public key is not an Ed25519 key with this id",
        f"{A}: signed by key {short}, whose entry in the bundle is not valid",
        f"{B}: signed by key {short}, whose entry in the bundle is not valid",
    ]
    assert verify_bundle(json.dumps(document)).summary.startswith(
        "2 of 2 results and 1 of 1 keys do not verify"
    )


def test_a_key_of_someone_else_does_not_vouch_for_a_result() -> None:
    key = SigningKey.generate()
    document = bundle([published(key, owner="hospital")], [key_entry(key, owner="vendor")])
    assert _lines(document) == [
        f"{A}: signed by key {key.key_id[:16]} of vendor, not of its uploader hospital"
    ]


def test_rotated_keys_verify_what_they_signed_before() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    results = [published(old, 1, dataset_id=1), published(new, 2, dataset_id=2)]
    retired = key_entry(old, retired_at=NOW + timedelta(hours=1))
    current = key_entry(new)
    assert _lines(bundle(results, [retired, current])) == []
    # A result uploaded after its key was retired does not verify.
    late = key_entry(old, retired_at=NOW - timedelta(hours=1))
    assert _lines(bundle(results, [late, current])) == [
        f"{A}: uploaded after key {old.key_id[:16]} was retired"
    ]


def test_unsigned_and_broken_records_are_named_and_the_rest_still_checked() -> None:
    _, document = _two_results()
    document["results"][0]["signature"] = None
    document["results"][1]["document"]["metrics"]["auroc"]["value"] = "high"
    lines = _lines(document)
    assert lines[0] == f"{A}: not signed"
    assert lines[1].startswith("result entry 2 (result 2): not a valid result: document.metrics")
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a medval bundle (medval.bundle/v1): not JSON"),
        ("[]", "not a medval bundle (medval.bundle/v1): Input should be a valid dictionary"),
        ('{"format": "other"}', "not a medval bundle (medval.bundle/v1): format: Input should be"),
        ("[" * 100_000, "not a medval bundle (medval.bundle/v1): nested too deep"),
    ],
)
def test_a_file_that_is_not_a_bundle_is_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        verify_bundle(text)
    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message
