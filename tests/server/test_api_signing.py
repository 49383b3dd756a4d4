"""Signing keys and signed uploads: the server keeps every key, refuses a result that its
uploader's current key did not sign, and returns what lets anyone check it."""

from __future__ import annotations

from typing import Any

from medval.core.result_schemas import ResultPublic
from medval.trust.keys import SigningKey
from medval.trust.signed_result import signature_verifies

from .conftest import Api, User


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def _register(user: User, key: SigningKey) -> Any:
    return user.post("/users/me/signing-keys", {"public_key": key.public_key})


def test_a_new_key_is_current_and_retires_the_one_before(api: Api, clock: Any) -> None:
    alice = api.user("alice")
    [first] = alice.ok("get", "/users/me/signing-keys")
    assert (first["key_id"], first["owner"], first["retired_at"]) == (
        api.keys["alice"].key_id,
        "alice",
        None,
    )
    clock.advance(hours=1)
    new = SigningKey.generate()
    response = _register(alice, new)
    assert response.status_code == 201
    assert response.json()["key_id"] == new.key_id
    old, current = alice.ok("get", "/users/me/signing-keys")
    assert (old["key_id"], old["retired_at"]) == (first["key_id"], "2024-05-01T10:00:00Z")
    assert (current["key_id"], current["retired_at"]) == (new.key_id, None)
    # The current key again is the same key; a retired key never comes back.
    assert _register(alice, new).json() == current
    assert _error(_register(alice, api.keys["alice"])) == (
        409,
        "conflict",
        f"signing key {first['key_id'][:16]} was retired; a retired key is never used again",
    )


def test_a_key_is_one_account_s_and_anyone_may_read_it(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    assert _error(_register(bob, api.keys["alice"])) == (
        409,
        "conflict",
        f"signing key {api.keys['alice'].key_id[:16]} is registered to another account",
    )
    seen = bob.ok("get", f"/signing-keys/{api.keys['alice'].key_id}")
    assert (seen["owner"], seen["public_key"]) == ("alice", api.keys["alice"].public_key)
    assert _error(alice.get(f"/signing-keys/{'0' * 64}")) == (
        404,
        "not_found",
        f"signing key {'0' * 16} does not exist",
    )
    status, code, message = _error(alice.post("/users/me/signing-keys", {"public_key": "xyz"}))
    assert (status, code) == (422, "invalid_input") and "public_key" in message


def test_an_upload_without_a_signature_is_refused(world: dict[str, Any], api: Api) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    raw = world["hospital"].http.client.post(
        "/api/v1/results", headers=world["hospital"].headers, json=body
    )
    status, code, message = _error(raw)
    assert (status, code) == (422, "invalid_input")
    assert message == "body.key_id: Field required (and 1 more)"


def test_a_signature_over_other_content_is_refused(world: dict[str, Any], api: Api) -> None:
    hospital = world["hospital"]
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    signed = api.signed("hospital", body)
    signed["document"]["metrics"]["auroc"]["value"] = 0.99  # changed after signing
    key = api.keys["hospital"].key_id[:16]
    assert _error(hospital.post("/results", signed)) == (
        422,
        "signature_invalid",
        f"the signature does not match the result's content (key {key})",
    )
    assert hospital.ok("get", "/results") == []


def test_a_key_of_another_account_is_refused(world: dict[str, Any], api: Api) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    # Signed by the vendor's registered key, uploaded by the hospital.
    signed = api.signed("hospital", body, key=api.keys["vendor"])
    assert _error(world["hospital"].post("/results", signed)) == (
        422,
        "signature_invalid",
        f"signing key {api.keys['vendor'].key_id[:16]} is not hospital's",
    )
    stray = SigningKey.generate()
    signed = api.signed("hospital", body, key=stray)
    assert _error(world["hospital"].post("/results", signed)) == (
        422,
        "signature_invalid",
        f"signing key {stray.key_id[:16]} is not registered; run 'medval login'",
    )


def test_a_retired_key_signs_no_new_upload_and_its_results_stay_verifiable(
    world: dict[str, Any], api: Api, clock: Any
) -> None:
    hospital, benchmark = world["hospital"], world["benchmark"]
    first = hospital.ok(
        "post", "/results", api.result_body(benchmark, world["dataset"], world["model"])
    )
    old = api.keys["hospital"]
    clock.advance(hours=1)
    new = SigningKey.generate()
    assert _register(hospital, new).status_code == 201
    reference = hospital.ok("get", f"/cubes/{benchmark['reference_model_id']}")
    body = api.result_body(benchmark, world["dataset"], reference)
    assert _error(hospital.post("/results", api.signed("hospital", body))) == (
        422,
        "signature_invalid",
        f"signing key {old.key_id[:16]} was retired; sign with your current key "
        "('medval keys show')",
    )
    api.keys["hospital"] = new
    second = hospital.ok("post", "/results", body)
    # Anyone who may see the results rebuilds what was signed and checks it with the
    # key the server names, retired or not.
    for seen, key in ((first, old), (second, new)):
        result = ResultPublic.model_validate(world["bench"].ok("get", f"/results/{seen['id']}"))
        assert result.key_id == key.key_id
        registered = world["bench"].ok("get", f"/signing-keys/{result.key_id}")
        assert registered["owner"] == "hospital"
        assert signature_verifies(result, registered["public_key"])
