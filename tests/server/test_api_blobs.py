"""Blobs are content-addressed: the URL's hash must be the body's, within the size limit."""

from __future__ import annotations

import hashlib

from medval.core.api import PREFIX

from .conftest import Api


def test_a_blob_round_trips(api: Api) -> None:
    alice = api.user("alice")
    data = b"\x00cube archive bytes\xff"
    sha = hashlib.sha256(data).hexdigest()
    put = alice.put(f"/blobs/{sha}", content=data)
    assert put.status_code == 201 and put.json() == {"sha256": sha, "size": len(data)}
    assert alice.put(f"/blobs/{sha}", content=data).status_code == 201  # idempotent
    got = alice.get(f"/blobs/{sha}")
    assert got.status_code == 200 and got.content == data


def test_a_body_that_does_not_hash_to_the_url_is_refused(api: Api) -> None:
    alice = api.user("alice")
    sha = hashlib.sha256(b"expected").hexdigest()
    response = alice.put(f"/blobs/{sha}", content=b"something else")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "hash_mismatch"
    assert alice.get(f"/blobs/{sha}").status_code == 404
    assert list(api.settings.blob_dir.iterdir()) == []  # no partial file left behind


def test_a_blob_over_the_limit_is_too_large(api: Api) -> None:
    alice = api.user("alice")
    data = b"x" * (api.settings.max_blob_bytes + 1)
    response = alice.put(f"/blobs/{hashlib.sha256(data).hexdigest()}", content=data)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_streamed_blob_over_the_limit_is_too_large(api: Api) -> None:
    """No Content-Length: the limit still holds while reading."""
    alice = api.user("alice")
    data = b"y" * (api.settings.max_blob_bytes + 10)

    def chunks() -> object:
        yield data[:600]
        yield data[600:]

    response = api.client.put(
        f"{PREFIX}/blobs/{hashlib.sha256(data).hexdigest()}",
        headers=alice.headers,
        content=chunks(),  # type: ignore[arg-type]
    )
    assert response.status_code == 413


def test_bad_hash_unknown_blob_and_anonymous_callers(api: Api) -> None:
    alice = api.user("alice")
    assert alice.put("/blobs/NOT-A-HASH", content=b"x").json()["error"]["code"] == "invalid_input"
    assert alice.get(f"/blobs/{'0' * 64}").json()["error"]["code"] == "not_found"
    assert api.client.get(f"{PREFIX}/blobs/{'0' * 64}").status_code == 401
