"""Blob ownership: who may read a blob, continue its upload and register with it."""

from __future__ import annotations

import hashlib
from typing import Any

from medval.core.api import PREFIX
from medval.server.services import blobs

from .conftest import Api, User


def _missing(sha: str) -> dict[str, str]:
    return {"code": "not_found", "message": f"blob {sha[:12]}… does not exist"}


def _not_yours(what: str, sha: str) -> dict[str, str]:
    return {
        "code": "invalid_input",
        "message": f"{what} {sha[:12]}… has not been uploaded by you; upload the blob first",
    }


def _cube(user: User, sha: str, stage: str = "operation", name: str = "c") -> Any:
    body = {"name": name, "kind": "model", "archive_hash": sha, "stage": stage}
    return user.post("/cubes", body)


def test_a_draft_cubes_archive_is_read_and_reused_only_by_its_owner(api: Api) -> None:
    bench, stranger = api.user("bench"), api.user("stranger")
    root = User("root", 1, api)
    data = b"a draft cube archive"
    sha = api.blob(bench, data)
    assert _cube(bench, sha, stage="development").status_code == 201
    assert bench.get(f"/blobs/{sha}").content == data
    assert root.get(f"/blobs/{sha}").content == data  # admins read every blob
    response = stranger.get(f"/blobs/{sha}")
    assert (response.status_code, response.json()["error"]) == (404, _missing(sha))
    response = _cube(stranger, sha)
    assert (response.status_code, response.json()["error"]) == (
        422,
        _not_yours("cube archive", sha),
    )
    # Neither may an admin register a cube with bytes it did not upload.
    assert _cube(root, sha).json()["error"] == _not_yours("cube archive", sha)
    # The stranger is told nothing is held for it, so its client sends the blob whole.
    state = stranger.get(f"/blobs/{sha}/upload").json()
    assert state == {"sha256": sha, "size": 0, "complete": False}
    assert bench.get(f"/blobs/{sha}/upload").json()["complete"] is True


def test_sending_the_bytes_whole_makes_another_owner(api: Api) -> None:
    bench, stranger = api.user("bench"), api.user("stranger")
    data = b"the same open-source cube"
    sha = api.blob(bench, data)
    assert _cube(bench, sha, stage="development").status_code == 201
    assert stranger.put(f"/blobs/{sha}", content=data).status_code == 201
    assert stranger.get(f"/blobs/{sha}").content == data
    assert stranger.get(f"/blobs/{sha}/upload").json()["complete"] is True
    assert _cube(stranger, sha).status_code == 201


def test_a_blob_nothing_uses_yet_is_only_its_owners(api: Api) -> None:
    hospital, vendor = api.user("hospital"), api.user("vendor")
    sha = api.blob(hospital, b"not registered yet")
    response = vendor.get(f"/blobs/{sha}")
    assert (response.status_code, response.json()["error"]) == (404, _missing(sha))
    assert hospital.get(f"/blobs/{sha}").status_code == 200


def test_a_released_cubes_archive_is_public(api: Api) -> None:
    bench, vendor = api.user("bench"), api.user("vendor")
    data = b"a released cube archive"
    sha = api.blob(bench, data)
    assert _cube(bench, sha).status_code == 201  # in operation
    assert vendor.get(f"/blobs/{sha}").content == data
    assert _cube(vendor, sha, name="mine").status_code == 201


def test_demo_data_is_read_by_whoever_may_run_the_benchmark(
    world: dict[str, Any], api: Api
) -> None:
    benchmark, hospital = world["benchmark"], world["hospital"]
    assert hospital.get(f"/blobs/{benchmark['demo_data_hash']}").status_code == 200
    pending = api.benchmark(world["bench"])  # not approved: only its owner and admins see it
    sha = pending["demo_data_hash"]
    response = hospital.get(f"/blobs/{sha}")
    assert (response.status_code, response.json()["error"]) == (404, _missing(sha))
    assert world["root"].get(f"/blobs/{sha}").status_code == 200
    # An approved benchmark's demo data may be reused; a pending one's may not.
    cubes = {k: benchmark[k] for k in ("data_preparator_id", "reference_model_id", "evaluator_id")}
    body = {"name": "again", "release_policy": "participants", **cubes}
    reused = world["bench"].post(
        "/benchmarks", body | {"demo_data_hash": benchmark["demo_data_hash"]}
    )
    assert reused.status_code == 201
    copied = world["stranger"].post("/benchmarks", body | {"name": "copy", "demo_data_hash": sha})
    assert copied.json()["error"] == _not_yours("demo data", sha)


def test_only_who_started_an_upload_continues_it(api: Api) -> None:
    alice, mallory = api.user("alice"), api.user("mallory")
    data = b"0123456789" * 40
    sha = hashlib.sha256(data).hexdigest()
    # Alice's upload is cut short after 100 bytes (the server keeps what arrived).
    ctx = api.client.app.state.context  # type: ignore[attr-defined]
    with ctx.store.transaction() as tx:
        alice_record = tx.user(alice.id)
    blobs.begin_upload(ctx, alice_record, sha, 0)
    with ctx.blobs.writer(sha) as writer:
        writer.write(data[:100])
        writer.keep()
    assert alice.get(f"/blobs/{sha}/upload").json() == {
        "sha256": sha,
        "size": 100,
        "complete": False,
    }
    assert mallory.get(f"/blobs/{sha}/upload").json() == {
        "sha256": sha,
        "size": 0,
        "complete": False,
    }
    response = api.client.put(
        f"{PREFIX}/blobs/{sha}",
        headers={**mallory.headers, "Upload-Offset": "100"},
        content=data[100:],
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"the server holds no upload of blob {sha[:12]}… started by you: "
        "start it from byte 0, not from byte 100"
    )
    response = api.client.put(
        f"{PREFIX}/blobs/{sha}",
        headers={**alice.headers, "Upload-Offset": "100"},
        content=data[100:],
    )
    assert response.status_code == 201
    assert alice.get(f"/blobs/{sha}").content == data
    assert mallory.get(f"/blobs/{sha}").status_code == 404
