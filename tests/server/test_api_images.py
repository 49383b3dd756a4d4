"""Cube images pinned at registration, and the runner kinds a benchmark supports."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api

DIGEST = "sha256:" + "ab" * 32


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_a_cube_is_registered_with_its_image_digest_and_archive(api: Api) -> None:
    alice = api.user("alice")
    body = {
        "name": "imaged",
        "kind": "model",
        "archive_hash": api.blob(alice),
        "image_digest": DIGEST,
        "image_archive_hash": api.blob(alice, b"an image archive"),
    }
    cube = alice.ok("post", "/cubes", body)
    shown = alice.ok("get", f"/cubes/{cube['id']}")
    assert (shown["image_digest"], shown["image_archive_hash"]) == (
        DIGEST,
        body["image_archive_hash"],
    )
    plain = api.cube(alice, "model")
    assert (plain["image_digest"], plain["image_archive_hash"]) == (None, None)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ({"image_digest": DIGEST}, "give both or neither"),
        ({"image_archive_hash": "d" * 64}, "give both or neither"),
        ({"image_digest": "my-model:latest", "image_archive_hash": "d" * 64}, "image_digest"),
        ({"image_digest": "sha256:" + "A" * 64, "image_archive_hash": "d" * 64}, "image_digest"),
        ({"image_digest": DIGEST, "image_archive_hash": "d" * 64}, "has not been uploaded"),
    ],
)
def test_an_image_is_pinned_whole_by_a_digest_and_an_uploaded_archive(
    api: Api, image: dict[str, str], message: str
) -> None:
    alice = api.user("alice")
    body = {"name": "imaged", "kind": "model", "archive_hash": api.blob(alice), **image}
    status, code, text = _error(alice.post("/cubes", body))
    assert (status, code) == (422, "invalid_input")
    assert message in text


def _benchmark_body(api: Api, owner: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"bench-{len(extra)}-{api.blob(owner)[:8]}",
        "data_preparator_id": api.cube(owner, "data_preparator")["id"],
        "reference_model_id": api.cube(owner, "model")["id"],
        "evaluator_id": api.cube(owner, "evaluator")["id"],
        "demo_data_hash": api.blob(owner),
        **extra,
    }


def test_a_benchmark_names_the_runner_kinds_it_supports_all_by_default(api: Api) -> None:
    alice = api.user("alice")
    every = alice.ok("post", "/benchmarks", _benchmark_body(api, alice))
    assert every["runners"] == ["local", "docker", "podman"]
    chosen = alice.ok("post", "/benchmarks", _benchmark_body(api, alice, runners=["docker"]))
    assert alice.ok("get", f"/benchmarks/{chosen['id']}")["runners"] == ["docker"]


@pytest.mark.parametrize("runners", [[], ["docker", "docker"], ["kubernetes"]])
def test_runner_kinds_are_known_ones_named_once(api: Api, runners: list[str]) -> None:
    alice = api.user("alice")
    response = alice.post("/benchmarks", _benchmark_body(api, alice, runners=runners))
    assert _error(response)[:2] == (422, "invalid_input")
