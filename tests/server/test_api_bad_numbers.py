"""NaN and Infinity, ids beyond what the store holds, and NUL characters: each a 422 that
names the field, never a 500, and the listings still answer afterwards; on SQLite and on
PostgreSQL (where each of them used to be a 500)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from medval.core.api import PREFIX
from medval.core.schemas import MAX_ID

from .both_stores import postgres_url, settings
from .conftest import Api, User

__all__ = ["postgres_url", "settings"]  # fixtures: every test on both stores


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def _post_raw(user: User, path: str, text: str) -> httpx.Response:
    """JSON as written (``json.dumps`` writes NaN and Infinity, as a hostile client would)."""
    return user.http.client.post(
        PREFIX + path,
        headers=user.headers | {"content-type": "application/json"},
        content=text.encode(),
    )


def _dataset_body(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "name": "site-x",
        "data_preparator_id": world["benchmark"]["data_preparator_id"],
        "data_hash": "a" * 64,
        "statistics": {"n_cases": 100, "values": {"age": {"mean": 60.0}}},
    } | changes


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"age": {"mean": float("nan")}}, "age.mean"),
        ({"age": {"mean": float("inf")}}, "age.mean"),
        ({"n_female": float("-inf")}, "n_female"),
    ],
)
def test_statistics_must_be_finite(world: dict[str, Any], values: Any, where: str) -> None:
    hospital = world["hospital"]
    body = _dataset_body(world, statistics={"n_cases": 100, "values": values})
    response = _post_raw(hospital, "/datasets", json.dumps(body))
    assert _error(response) == (
        422,
        f"body.statistics.values: Value error, {where} is not a finite number "
        "(report a missing value as null)",
    )
    listing = hospital.get("/datasets")
    assert listing.status_code == 200
    assert [d["name"] for d in listing.json()] == [world["dataset"]["name"]]


def test_metrics_must_be_finite(api: Api, world: dict[str, Any]) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    body["document"]["metrics"]["auroc"]["upper"] = float("inf")
    body = api.signed("hospital", body)  # signed as the client would (refused before checking)
    response = _post_raw(world["hospital"], "/results", json.dumps(body))
    assert _error(response) == (
        422,
        "body.document.metrics.auroc.upper: Value error, must be a finite number",
    )
    assert world["hospital"].get("/results").status_code == 200


TOO_BIG = f"Input should be less than or equal to {MAX_ID}"


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 2**64 + 5])
@pytest.mark.parametrize(
    "path", ["/cubes/{}", "/datasets/{}", "/benchmarks/{}/leaderboard", "/results/{}"]
)
def test_path_ids_beyond_the_store_are_422(world: dict[str, Any], path: str, number: int) -> None:
    response = world["root"].get(path.format(number))
    name = {"cubes": "cube_id", "datasets": "dataset_id", "benchmarks": "benchmark_id"}
    field = name.get(path.split("/")[1], "result_id")
    assert _error(response) == (422, f"path.{field}: {TOO_BIG}")


def test_the_largest_id_is_simply_not_found(world: dict[str, Any]) -> None:
    response = world["root"].get(f"/cubes/{MAX_ID}")
    assert _error(response) == (404, f"cube {MAX_ID} does not exist")


def test_body_and_query_ids_beyond_the_store_are_422(world: dict[str, Any]) -> None:
    body = {"benchmark_id": 2**63, "kind": "dataset", "entity_id": world["dataset"]["id"]}
    response = world["hospital"].post("/associations", body)
    assert _error(response) == (422, f"body.benchmark_id: {TOO_BIG}")
    query = world["hospital"].get("/results", params={"model_id": 2**40})
    assert _error(query) == (422, f"query.model_id: {TOO_BIG}")
    zero = world["hospital"].get("/cubes/0")
    assert _error(zero) == (422, "path.cube_id: Input should be greater than or equal to 1")


@pytest.mark.parametrize("field", ["description", "location"])
def test_a_nul_in_a_string_is_422(world: dict[str, Any], field: str) -> None:
    body = _dataset_body(world, **{field: "St. Elsewhere\x00"})
    response = world["hospital"].post("/datasets", body)
    assert _error(response) == (
        422,
        f"body.{field}: Value error, must not contain a NUL character",
    )
    assert world["hospital"].get("/datasets").status_code == 200


def test_a_nul_in_provenance_or_a_password_is_422(api: Api, world: dict[str, Any]) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    body["provenance"]["model_hash"] += "\x00"
    response = world["hospital"].post("/results", body)
    assert _error(response) == (
        422,
        "body.provenance.model_hash: Value error, must not contain a NUL character",
    )
    login = api.client.post(
        PREFIX + "/auth/token", json={"username": "hospital", "password": "pass\x00word"}
    )
    assert _error(login) == (
        422,
        "body.password: Value error, must not contain a NUL character",
    )
