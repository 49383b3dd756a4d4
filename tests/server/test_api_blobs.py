"""Blobs are content-addressed: the URL's hash must be the body's, within the size limit."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from medval.core.api import PREFIX
from medval.core.errors import Conflict
from medval.server.store.blobs import BlobStore

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
    # No partial file left behind: a body that arrived whole and wrong is not continued.
    assert [p.name for p in api.settings.blob_dir.iterdir()] == [".partial"]
    assert list((api.settings.blob_dir / ".partial").iterdir()) == []
    assert alice.get(f"/blobs/{sha}/upload").json() == {"sha256": sha, "size": 0, "complete": False}


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


def test_the_upload_state_and_an_offset_that_does_not_continue_it(api: Api) -> None:
    alice = api.user("alice")
    data = b"0123456789" * 50
    sha = hashlib.sha256(data).hexdigest()
    assert alice.get(f"/blobs/{sha}/upload").json() == {"sha256": sha, "size": 0, "complete": False}
    response = api.client.put(
        f"{PREFIX}/blobs/{sha}", headers={**alice.headers, "Upload-Offset": "100"}, content=data
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"the server holds no upload of blob {sha[:12]}… started by you: "
        "start it from byte 0, not from byte 100"
    )
    response = api.client.put(
        f"{PREFIX}/blobs/{sha}", headers={**alice.headers, "Upload-Offset": "x"}, content=data
    )
    assert response.json()["error"]["message"] == "Upload-Offset must be a number of bytes, not 'x'"
    assert alice.put(f"/blobs/{sha}", content=data).status_code == 201
    state = alice.get(f"/blobs/{sha}/upload").json()
    assert state == {"sha256": sha, "size": len(data), "complete": True}


def test_a_download_continues_from_a_byte_range(api: Api) -> None:
    alice = api.user("alice")
    data = bytes(range(256)) * 3
    sha = api.blob(alice, data)
    part = api.client.get(f"{PREFIX}/blobs/{sha}", headers={**alice.headers, "Range": "bytes=700-"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 700-{len(data) - 1}/{len(data)}"
    assert part.content == data[700:]


def test_a_stale_partial_upload_is_forgotten_when_an_upload_starts(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path, max_bytes=1 << 20, partial_hours=1)
    with blobs.writer("a" * 64) as kept:
        kept.write(b"half of it")
        kept.keep()
    assert blobs.upload_state("a" * 64) == (10, False)
    with blobs.writer("b" * 64):
        pass
    assert blobs.upload_state("a" * 64) == (10, False)  # still fresh
    two_hours_ago = time.time() - 7200
    os.utime(blobs.partial_dir / ("a" * 64), (two_hours_ago, two_hours_ago))
    with blobs.writer("b" * 64):
        pass
    assert blobs.upload_state("a" * 64) == (0, False)


def test_one_upload_at_a_time_per_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path, max_bytes=1 << 20)
    with blobs.writer("a" * 64) as first:
        first.write(b"abc")
        with pytest.raises(Conflict, match="is already in progress"):
            blobs.writer("a" * 64, 3)
        first.keep()
    with blobs.writer("a" * 64, 3) as second:  # the first one is over: continue it
        assert second.size == 3
