"""Private models' keys on the server: sites' encryption keys, the model owner granting
and withholding a wrapped key, its release to approved sites only, its deletion when a
site's association is revoked, and never a model key in clear in the database or the log."""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from typing import Any

import pytest

from medval.server.settings import ServerSettings
from medval.trust.key_wrapping import EncryptionKey

from .conftest import Api
from .model_key_world import (
    MODEL_KEY,
    delete,
    encryption_key,
    error,
    grant,
    keyed,
    released,
)
from .web_browser import Browser, text

__all__ = ["keyed"]  # a fixture


def _states(keyed: dict[str, Any]) -> dict[str, str]:
    rows = keyed["vendor"].ok("get", f"/cubes/{keyed['private']['id']}/key-recipients")
    return {row["recipient"]: row["state"] for row in rows}


# --- encryption keys ----------------------------------------------------------------------


def test_an_encryption_key_is_registered_and_a_new_one_retires_it(world: dict[str, Any]) -> None:
    hospital, vendor = world["hospital"], world["vendor"]
    first = encryption_key(hospital)
    again = hospital.post("/users/me/encryption-keys", {"public_key": first.public_key})
    assert again.status_code == 201 and again.json()["key_id"] == first.key_id
    second = encryption_key(hospital)
    keys = hospital.ok("get", "/users/me/encryption-keys")
    assert [(k["key_id"], k["retired_at"] is None) for k in keys] == [
        (first.key_id, False),
        (second.key_id, True),
    ]
    retired = hospital.post("/users/me/encryption-keys", {"public_key": first.public_key})
    assert error(retired) == (
        409,
        "conflict",
        f"encryption key {first.key_id[:16]} was retired; a retired key is never used again",
    )
    theirs = vendor.post("/users/me/encryption-keys", {"public_key": second.public_key})
    assert error(theirs) == (
        409,
        "conflict",
        f"encryption key {second.key_id[:16]} is registered to another account",
    )
    bad = hospital.post("/users/me/encryption-keys", {"public_key": "A" * 43 + "="})
    # Zeros: a low-order point, which would make every wrapping to it the same.
    assert error(bad) == (
        422,
        "invalid_input",
        "public_key: not an X25519 public key (base64 of 32 bytes)",
    )


# --- who may hold the key, and granting it --------------------------------------------------


def test_the_owner_lists_every_approved_site_and_none_other(keyed: dict[str, Any]) -> None:
    assert _states(keyed) == {"hospital": "missing", "clinic": "missing"}
    rows = keyed["vendor"].ok("get", f"/cubes/{keyed['private']['id']}/key-recipients")
    assert {r["recipient"]: r["key_id"] for r in rows} == {
        "hospital": keyed["keys"]["hospital"].key_id,
        "clinic": keyed["keys"]["clinic"].key_id,
    }
    assert grant(keyed, "hospital").status_code == 200
    assert _states(keyed) == {"hospital": "held", "clinic": "missing"}
    # The site makes a new key: its wrapped key is stale until the owner wraps it again.
    newer = encryption_key(keyed["hospital"])
    assert _states(keyed)["hospital"] == "stale"
    assert grant(keyed, "hospital", newer).status_code == 200
    assert _states(keyed)["hospital"] == "held"


def test_only_the_owner_sees_the_recipients_of_a_private_model(keyed: dict[str, Any]) -> None:
    path = f"/cubes/{keyed['private']['id']}/key-recipients"
    name = keyed["private"]["name"]
    for who in ("bench", "hospital", "root"):
        assert error(keyed[who].get(path)) == (
            403,
            "permission_denied",
            f"only the owner of model {name} may share its key",
        )
    public = keyed["vendor"].get(f"/cubes/{keyed['model']['id']}/key-recipients")
    assert error(public) == (
        422,
        "invalid_input",
        f"model {keyed['model']['name']} is not private: it has no key to share",
    )
    assert error(keyed["vendor"].get("/cubes/999999/key-recipients")) == (
        404,
        "not_found",
        "cube 999999 does not exist",
    )


def test_granting_is_refused_in_one_line(keyed: dict[str, Any], api: Api) -> None:
    model, name = keyed["private"], keyed["private"]["name"]
    assert error(grant(keyed, "stranger")) == (
        409,
        "invalid_transition",
        f"stranger is not approved to run model {name}: no dataset of theirs has an "
        "approved association with a benchmark where the model is approved",
    )
    # An approved site that never logged in with a client has no encryption key.
    keyless = api.user("keyless")
    dataset = api.dataset(keyless, keyed["benchmark"])
    api.associate(keyless, keyed["benchmark"], "dataset", dataset, keyed["bench"])
    body = {"key_id": "0" * 64, "wrapped_key": "A" * 107 + "="}
    path = f"/cubes/{model['id']}/key-recipients/keyless"
    assert error(keyed["vendor"].put(path, body)) == (
        409,
        "invalid_transition",
        "keyless has no encryption key yet; it is made when they log in",
    )
    other = EncryptionKey.generate()
    current = keyed["keys"]["clinic"].key_id
    assert error(grant(keyed, "clinic", other)) == (
        409,
        "invalid_transition",
        f"encryption key {other.key_id[:16]} is not clinic's current key "
        f"({current[:16]}); run 'medval model keys sync' again",
    )
    as_bench = keyed["bench"].put(f"/cubes/{model['id']}/key-recipients/clinic", body)
    assert error(as_bench) == (
        403,
        "permission_denied",
        f"only the owner of model {name} may share its key",
    )
    public = keyed["vendor"].put(f"/cubes/{keyed['model']['id']}/key-recipients/clinic", body)
    assert error(public)[:2] == (422, "invalid_input")
    nobody = keyed["vendor"].put(f"/cubes/{model['id']}/key-recipients/nobody", body)
    assert error(nobody) == (404, "not_found", "user nobody does not exist")
    assert _states(keyed) == {"hospital": "missing", "clinic": "missing", "keyless": "no_key"}


# --- release --------------------------------------------------------------------------------


def test_an_approved_site_gets_its_own_wrapped_key_and_opens_it(keyed: dict[str, Any]) -> None:
    assert grant(keyed, "hospital").status_code == 200
    response = released(keyed, "hospital")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["recipient"], body["key_id"]) == ("hospital", keyed["keys"]["hospital"].key_id)
    sealed_hash = keyed["private"]["sealed"]["sealed_hash"]
    assert keyed["keys"]["hospital"].unwrap(body["wrapped_key"], sealed_hash) == MODEL_KEY


def test_no_wrapped_key_a_revoked_site_and_a_never_approved_user_get_one_line(
    keyed: dict[str, Any],
) -> None:
    model = keyed["private"]
    assert grant(keyed, "hospital").status_code == 200
    assert error(released(keyed, "clinic")) == (
        403,
        "key_release_refused",
        f"key release refused: no key of model {model['name']} is wrapped for clinic yet; "
        "its owner wraps one with 'medval model keys sync'",
    )
    assert error(released(keyed, "stranger")) == (
        403,
        "key_release_refused",
        f"key release refused: site stranger is not approved for model {model['id']}",
    )
    [association] = keyed["hospital"].ok("get", "/associations?kind=dataset")
    revoked = keyed["hospital"].post(f"/associations/{association['id']}/revocation", None)
    assert revoked.status_code == 200, revoked.text
    assert error(released(keyed, "hospital")) == (
        403,
        "key_release_refused",
        f"key release refused: site hospital is not approved for model {model['id']}",
    )
    assert _states(keyed) == {"clinic": "missing"}  # its wrapped key is gone


def test_revoking_the_model_deletes_every_wrapped_key(keyed: dict[str, Any], api: Api) -> None:
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    rows = keyed["vendor"].ok("get", "/associations?kind=model")
    [association] = [a for a in rows if a["entity_id"] == keyed["private"]["id"]]
    keyed["vendor"].post(f"/associations/{association['id']}/revocation", None)
    assert _states(keyed) == {}
    for site in ("hospital", "clinic"):
        assert error(released(keyed, site))[:2] == (403, "key_release_refused")


def test_a_withheld_site_gets_nothing_until_granted_again(keyed: dict[str, Any]) -> None:
    model = keyed["private"]
    assert grant(keyed, "clinic").status_code == 200
    withheld = delete(keyed["vendor"], f"/cubes/{model['id']}/key-recipients/clinic")
    assert withheld.status_code == 200, withheld.text
    assert withheld.json()["state"] == "withheld"
    assert _states(keyed) == {"hospital": "missing", "clinic": "withheld"}
    assert error(released(keyed, "clinic")) == (
        403,
        "key_release_refused",
        f"key release refused: the owner of model {model['name']} withholds its key from clinic",
    )
    as_site = delete(keyed["clinic"], f"/cubes/{model['id']}/key-recipients/clinic")
    assert error(as_site)[:2] == (403, "permission_denied")
    assert grant(keyed, "clinic").status_code == 200
    assert released(keyed, "clinic").status_code == 200


def test_a_public_model_has_no_key_to_release(keyed: dict[str, Any]) -> None:
    response = keyed["hospital"].get(f"/cubes/{keyed['model']['id']}/released-key")
    assert error(response) == (
        422,
        "invalid_input",
        f"model {keyed['model']['name']} is not private: it has no key to share",
    )


# --- the record -----------------------------------------------------------------------------


def test_grants_withholdings_and_deletions_are_in_the_audit_log(keyed: dict[str, Any]) -> None:
    model = keyed["private"]
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    delete(keyed["vendor"], f"/cubes/{model['id']}/key-recipients/clinic")
    [association] = keyed["hospital"].ok("get", "/associations?kind=dataset")
    keyed["hospital"].post(f"/associations/{association['id']}/revocation", None)
    entries = keyed["root"].ok("get", "/audit?entity_kind=wrapped_model_key")
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("vendor", "wrapped_model_key.add"),
        ("vendor", "wrapped_model_key.add"),
        ("vendor", "wrapped_model_key.withhold"),
        ("hospital", "wrapped_model_key.delete"),
    ]
    assert entries[-1]["after_hash"] is None


def _forms(key: bytes) -> list[bytes]:
    return [
        key,
        key.hex().encode(),
        key.hex().upper().encode(),
        base64.b64encode(key),
        base64.urlsafe_b64encode(key),
        base64.b64encode(key).rstrip(b"="),
    ]


def test_the_model_key_is_never_in_the_database_or_the_log_in_clear(
    keyed: dict[str, Any], settings: ServerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    assert released(keyed, "hospital").status_code == 200
    released(keyed, "stranger")
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob("medval.db*"))
    blobs = b"".join(p.read_bytes() for p in settings.blob_dir.rglob("*") if p.is_file())
    logged = caplog.text.encode()
    wrapped = keyed["vendor"].ok("get", f"/cubes/{keyed['private']['id']}/key-recipients")
    assert wrapped  # the scan is over a database that holds wrapped keys
    for form in _forms(MODEL_KEY):
        assert form not in stored
        assert form not in blobs
        assert form not in logged


def test_an_invalidated_dataset_or_model_gets_no_key(keyed: dict[str, Any]) -> None:
    model = keyed["private"]
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    keyed["hospital"].post(f"/datasets/{keyed['dataset']['id']}/invalidation", None)
    assert error(released(keyed, "hospital")) == (
        403,
        "key_release_refused",
        f"key release refused: site hospital is not approved for model {model['id']}",
    )
    assert released(keyed, "clinic").status_code == 200
    keyed["vendor"].post(f"/cubes/{model['id']}/invalidation", None)
    assert error(released(keyed, "clinic"))[:2] == (403, "key_release_refused")
    assert _states(keyed) == {}


def _deletions(keyed: dict[str, Any]) -> list[tuple[str, str]]:
    entries = keyed["root"].ok("get", "/audit?entity_kind=wrapped_model_key")
    return [(e["actor"], e["action"]) for e in entries if e["action"].endswith(".delete")]


def test_invalidating_a_dataset_deletes_its_owners_wrapped_keys(keyed: dict[str, Any]) -> None:
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    keyed["hospital"].post(f"/datasets/{keyed['dataset']['id']}/invalidation", None)
    assert _deletions(keyed) == [("hospital", "wrapped_model_key.delete")]
    assert _states(keyed) == {"clinic": "held"}


def test_invalidating_the_model_or_the_benchmark_deletes_every_wrapped_key(
    keyed: dict[str, Any], api: Api
) -> None:
    assert grant(keyed, "hospital").status_code == 200
    assert grant(keyed, "clinic").status_code == 200
    keyed["bench"].post(f"/benchmarks/{keyed['benchmark']['id']}/invalidation", None)
    assert _deletions(keyed) == [("bench", "wrapped_model_key.delete")] * 2
    keyed["vendor"].post(f"/cubes/{keyed['private']['id']}/invalidation", None)
    assert len(_deletions(keyed)) == 2  # nothing was left to delete


def test_the_owners_page_shows_where_each_site_stands_and_no_one_elses(
    keyed: dict[str, Any], api: Api
) -> None:
    assert grant(keyed, "hospital").status_code == 200
    model = keyed["private"]
    page = Browser.on(api).get("/mine", headers=keyed["vendor"].headers)
    assert page.status_code == 200
    words = text(page.text)
    assert f"{model['name']} model · private" in words
    assert "hospital held clinic missing" in words
    assert "get the key when you run medval model keys sync" in words
    theirs = text(Browser.on(api).get("/mine", headers=keyed["hospital"].headers).text)
    assert model["name"] not in theirs


# --- a private model's image --------------------------------------------------------------


def test_a_private_models_image_is_registered_sealed_only(world: dict[str, Any], api: Api) -> None:
    vendor = world["vendor"]
    sealed_image = api.blob(vendor, b"the image archive, sealed")
    body = {
        "name": "private-with-image",
        "kind": "model",
        "archive_hash": hashlib.sha256(b"the archive in clear").hexdigest(),
        "stage": "operation",
        "image_digest": "sha256:" + "d" * 64,
        "image_archive_hash": hashlib.sha256(b"an image archive in clear").hexdigest(),
        "sealed": {"sealed_hash": api.blob(vendor), "key_release": "none"},
    }
    assert error(vendor.post("/cubes", body)) == (
        422,
        "invalid_input",
        "a private model with an image gives both its image archive's hash in clear "
        "(image_archive_hash) and its sealed one (sealed.image_sealed_hash), a model without "
        "one neither",
    )
    body["sealed"] = body["sealed"] | {"image_sealed_hash": sealed_image}
    # Registered with its image sealed: the image archive in clear was never uploaded.
    registered = vendor.ok("post", "/cubes", body)
    assert registered["sealed"]["image_sealed_hash"] == sealed_image
    assert registered["image_archive_hash"] == body["image_archive_hash"]
