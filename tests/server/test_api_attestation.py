"""``attested`` key release on the server: the model's owner pins a measurement, a launch
policy and the key that signs evidence; an approved site asks for a nonce and sends a
signed evidence document back for its wrapped key. A good document releases the key once;
a wrong measurement or policy, a bad signature, a replayed, expired, another site's or
made-up nonce, or no evidence at all, each get one line (403) and no key; a refused
release spends no nonce.

No TEE runs here: the evidence is signed by a key the test holds, standing in for the
hardware (``medval.trust.attestation``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medval.trust.attestation import Evidence, sign_evidence
from medval.trust.keys import SigningKey, key_id
from medval.trust.signed_result import timestamp

from .conftest import Api, Clock
from .model_key_world import MODEL_KEY, error, grant, keyed, private_model

__all__ = ["keyed"]  # a fixture

MEASUREMENT = "a1" * 48  # 384 bits, as SEV-SNP and TDX measure
POLICY = "0x30000"  # SEV-SNP's policy word with debugging off


@pytest.fixture
def attested(keyed: dict[str, Any], api: Api) -> dict[str, Any]:
    """``keyed`` with its private model replaced by one released ``attested``, pinned to
    ``MEASUREMENT``, ``POLICY`` and the attester's key; hospital holds a wrapped key."""
    model = private_model(api, keyed["vendor"], key_release="attested")
    api.associate(keyed["vendor"], keyed["benchmark"], "model", model, keyed["bench"])
    attester = SigningKey.generate()
    keyed = keyed | {"private": model, "attester": attester}
    pinned = _pin(keyed, attester.public_key)
    assert pinned.status_code == 200, pinned.text
    assert grant(keyed, "hospital").status_code == 200
    return keyed


def _pin(
    keyed: dict[str, Any], public_key: str, caller: str = "vendor", **fields: Any
) -> httpx.Response:
    body = {"measurement": MEASUREMENT, "launch_policy": POLICY, "signing_public_key": public_key}
    return keyed[caller].put(f"/cubes/{keyed['private']['id']}/attestation-pins", body | fields)


def _nonce(keyed: dict[str, Any], site: str = "hospital") -> str:
    response = keyed[site].post(f"/cubes/{keyed['private']['id']}/attestation-nonces", None)
    assert response.status_code == 201, response.text
    nonce: str = response.json()["nonce"]
    return nonce


def _evidence(keyed: dict[str, Any], nonce: str, clock: Clock, **fields: Any) -> str:
    values: dict[str, Any] = {
        "model_id": keyed["private"]["id"],
        "measurement": MEASUREMENT,
        "launch_policy": POLICY,
        "nonce": nonce,
        "reported_at": timestamp(clock.now),
    }
    key = fields.pop("key", keyed["attester"])
    return sign_evidence(Evidence(**(values | fields)), key).decode()


def _release(keyed: dict[str, Any], evidence: str, site: str = "hospital") -> httpx.Response:
    path = f"/cubes/{keyed['private']['id']}/released-key"
    return keyed[site].post(path, {"evidence": evidence})


def _refusal(response: httpx.Response) -> str:
    status, code, message = error(response)
    assert (status, code) == (403, "key_release_refused"), response.text
    return message


def test_a_good_document_releases_the_key_once(attested: dict[str, Any], clock: Clock) -> None:
    nonce = _nonce(attested)
    evidence = _evidence(attested, nonce, clock)
    released = _release(attested, evidence)
    assert released.status_code == 200, released.text
    sealed_hash = attested["private"]["sealed"]["sealed_hash"]
    key = attested["keys"]["hospital"]
    assert key.unwrap(released.json()["wrapped_key"], sealed_hash) == MODEL_KEY
    assert _refusal(_release(attested, evidence)) == (
        f"key release refused: nonce {nonce[:16]} was already used (a replayed document)"
    )
    # A new nonce, a new document: released again.
    assert _release(attested, _evidence(attested, _nonce(attested), clock)).status_code == 200


def test_each_wrong_document_is_one_line_and_spends_no_nonce(
    attested: dict[str, Any], clock: Clock
) -> None:
    model_id = attested["private"]["id"]
    nonce = _nonce(attested)
    stranger_key = SigningKey.generate()
    pinned = key_id(attested["attester"].public_key)[:16]
    cases = {
        "a measurement": (
            {"measurement": "b2" * 48},
            f"key release refused: the runner's measurement {'b2' * 8} is not the pinned "
            f"{'a1' * 8}",
        ),
        "a policy": (
            {"launch_policy": "0x30001"},
            "key release refused: the launch policy 0x30001 is not the pinned 0x30000",
        ),
        "a key": (
            {"key": stranger_key},
            f"key release refused: the evidence's signature does not verify with the pinned "
            f"key {pinned}",
        ),
        "a model": (
            {"model_id": model_id + 1000},
            f"key release refused: the evidence is for model {model_id + 1000}, not model "
            f"{model_id}",
        ),
    }
    for name, (fields, message) in cases.items():
        assert _refusal(_release(attested, _evidence(attested, nonce, clock, **fields))) == (
            message
        ), name
    not_json = _refusal(_release(attested, "{not json"))
    assert not_json.startswith("key release refused: the evidence is not a medval attestation ")
    missing = attested["hospital"].get(f"/cubes/{model_id}/released-key")
    assert _refusal(missing) == (
        f"key release refused: model {model_id} releases its key only against attestation "
        "evidence, and none was sent"
    )
    # Not one of them spent the nonce.
    assert _release(attested, _evidence(attested, nonce, clock)).status_code == 200


def test_a_nonce_is_for_one_site_one_model_and_five_minutes(
    attested: dict[str, Any], clock: Clock, api: Api
) -> None:
    model_id = attested["private"]["id"]
    # The clinic is approved too, but a nonce issued to it is not the hospital's.
    clinic_nonce = _nonce(attested, "clinic")
    assert _refusal(_release(attested, _evidence(attested, clinic_nonce, clock))) == (
        f"key release refused: nonce {clinic_nonce[:16]} was not issued by this verifier to "
        f"hospital for model {model_id}"
    )
    made_up = "c3" * 32
    assert _refusal(_release(attested, _evidence(attested, made_up, clock))) == (
        f"key release refused: nonce {made_up[:16]} was not issued by this verifier to "
        f"hospital for model {model_id}"
    )
    nonce = _nonce(attested)
    issued_at = clock.now
    clock.advance(minutes=6)
    assert _refusal(_release(attested, _evidence(attested, nonce, clock))) == (
        f"key release refused: nonce {nonce[:16]} expired at "
        f"{timestamp(issued_at.replace(minute=issued_at.minute + 5))}"
    )
    # Evidence made before the window (five minutes by default) is refused too.
    fresh = _nonce(attested)
    old = _evidence(attested, fresh, clock, reported_at=timestamp(clock.now.replace(hour=8)))
    assert _refusal(_release(attested, old)).startswith(
        "key release refused: the evidence was made at 2024-05-01T08:06:00.000000Z, outside "
        "the 300 s before"
    )


def test_only_an_approved_site_gets_a_nonce(attested: dict[str, Any]) -> None:
    model_id = attested["private"]["id"]
    for caller in ("stranger", "vendor", "bench"):
        response = attested[caller].post(f"/cubes/{model_id}/attestation-nonces", None)
        assert error(response) == (
            403,
            "key_release_refused",
            f"key release refused: site {caller} is not approved for model {model_id}",
        ), caller


def test_a_model_without_pins_releases_nothing(keyed: dict[str, Any], api: Api) -> None:
    model = private_model(api, keyed["vendor"], key_release="attested")
    api.associate(keyed["vendor"], keyed["benchmark"], "model", model, keyed["bench"])
    keyed = keyed | {"private": model}
    assert grant(keyed, "hospital").status_code == 200
    response = keyed["hospital"].post(
        f"/cubes/{model['id']}/released-key", {"evidence": '{"payload": {}, "signature": ""}'}
    )
    assert _refusal(response) == (
        f"key release refused: model {model['id']} releases its key only against attestation "
        "evidence, and its owner has pinned no measurement yet ('medval model attestation pin')"
    )
    shown = keyed["hospital"].get(f"/cubes/{model['id']}/attestation-pins")
    assert error(shown) == (
        404,
        "not_found",
        f"model {model['name']} has no attestation pins yet; its owner pins them with "
        "'medval model attestation pin'",
    )


def test_the_owner_pins_anyone_who_sees_the_model_reads_them(
    attested: dict[str, Any], clock: Clock
) -> None:
    model = attested["private"]
    public_key = attested["attester"].public_key
    shown = attested["hospital"].ok("get", f"/cubes/{model['id']}/attestation-pins")
    assert shown == {
        "model_id": model["id"],
        "measurement": MEASUREMENT,
        "launch_policy": POLICY,
        "signing_public_key": public_key,
        "signing_key_id": key_id(public_key),
        "window_seconds": 300,
        "pinned_at": "2024-05-01T09:00:00Z",
    }
    as_site = _pin(attested, public_key, caller="hospital")
    assert error(as_site)[:2] == (403, "permission_denied")
    # Pinning again (a new runner image) replaces the pins: the old measurement is refused.
    clock.advance(minutes=1)
    again = _pin(attested, public_key, measurement="d4" * 48, window_seconds=60)
    assert again.status_code == 200, again.text
    assert (again.json()["measurement"], again.json()["window_seconds"]) == ("d4" * 48, 60)
    old = _release(attested, _evidence(attested, _nonce(attested), clock))
    assert "is not the pinned d4d4d4d4" in _refusal(old)
    new = _evidence(attested, _nonce(attested), clock, measurement="d4" * 48)
    assert _release(attested, new).status_code == 200


def test_bad_pins_are_one_line_and_change_nothing(attested: dict[str, Any]) -> None:
    public_key = attested["attester"].public_key
    for fields, field in (
        ({"measurement": "not hex"}, "measurement"),
        ({"launch_policy": ""}, "launch_policy"),
        ({"window_seconds": 0}, "window_seconds"),
    ):
        status, code, message = error(_pin(attested, public_key, **fields))
        assert (status, code) == (422, "invalid_input") and field in message, message
    status, code, _ = error(_pin(attested, "not a key"))
    assert (status, code) == (422, "invalid_input")
    shown = attested["hospital"].ok("get", f"/cubes/{attested['private']['id']}/attestation-pins")
    assert (shown["measurement"], shown["launch_policy"]) == (MEASUREMENT, POLICY)


def test_a_model_released_to_approved_sites_has_no_pins_nor_nonces(keyed: dict[str, Any]) -> None:
    model = keyed["private"]  # key release "none"
    message = (
        f"model {model['name']} releases its key to approved sites (key release none), not "
        "against attestation evidence"
    )
    pinned = _pin(keyed, SigningKey.generate().public_key)
    assert error(pinned) == (422, "invalid_input", message)
    nonce = keyed["hospital"].post(f"/cubes/{model['id']}/attestation-nonces", None)
    assert error(nonce) == (422, "invalid_input", message)


def test_pinning_and_pinning_again_are_in_the_audit_log(attested: dict[str, Any]) -> None:
    again = _pin(attested, attested["attester"].public_key, measurement="d4" * 48)
    assert again.status_code == 200, again.text
    entries = attested["root"].ok("get", "/audit?entity_kind=attestation_pins")
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("vendor", "attestation_pins.add"),
        ("vendor", "attestation_pins.repin"),
    ]
