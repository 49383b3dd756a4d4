"""The server refuses small cells the client should have withheld (services.small_cells)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from .conftest import Api, User


def _setup(api: Api, **disclosure: int) -> dict[str, Any]:
    people = {n: api.user(n) for n in ("bench", "hospital", "vendor")}
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root, **disclosure)
    dataset = api.dataset(people["hospital"], benchmark)
    api.associate(people["hospital"], benchmark, "dataset", dataset, people["bench"])
    model = api.cube(people["vendor"], "model")
    api.associate(people["vendor"], benchmark, "model", model, people["bench"])
    return {**people, "benchmark": benchmark, "dataset": dataset, "model": model}


def _refusal(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        (
            {"n_cases": 200, "n_positive": 3, "metrics": {}},
            "document.n_positive",
            "a count of 3, below the minimum cell size 10",
        ),
        (
            {"n_cases": 200, "n_positive": 195, "metrics": {}},
            "document.n_positive",
            "n_cases - n_positive is 5, below 10",
        ),
        (
            {"n_cases": 200, "n_positive": 50, "metrics": {"sensitivity": {"value": 0.96}}},
            "document.metrics.sensitivity",
            "0.96 is 48 of 50, a proportion of a count below 10",
        ),
        (
            {"n_cases": 200, "metrics": {"false_negatives": {"value": 2}}},
            "document.metrics.false_negatives",
            "a count of 2, below the minimum cell size 10",
        ),
        (
            {"n_cases": 7, "metrics": {}},
            "document.n_cases",
            "a count of 7, below the minimum cell size 10",
        ),
    ],
)
def test_a_result_with_a_small_cell_is_refused_naming_the_field(
    api: Api, document: dict[str, Any], field: str, reason: str
) -> None:
    world = _setup(api)
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    body["document"] = document
    name = world["benchmark"]["name"]
    assert _refusal(world["hospital"].post("/results", body)) == (
        422,
        "invalid_input",
        f"the result's {field} is a small cell: {reason} (benchmark {name}); "
        "medval's client withholds small cells",
    )
    assert world["bench"].ok("get", "/results") == []


def test_the_benchmarks_own_k_is_the_one_checked(api: Api) -> None:
    world = _setup(api, min_cell_count=5, min_sites=1)
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    body["document"] = {"n_cases": 200, "n_positive": 7, "metrics": {}}
    assert world["hospital"].post("/results", body).status_code == 201


@pytest.mark.parametrize(
    ("statistics", "field", "reason"),
    [
        (
            {"n_cases": 120, "values": {"grade": {"grade_1": 3, "grade_2": 117}}},
            "statistics.values.grade.grade_1",
            "a count of 3, below the minimum cell size 10",
        ),
        (
            {"n_cases": 120, "values": {"event_rate": 0.025}},
            "statistics.values.event_rate",
            "0.025 is 3 of 120, a proportion of a count below 10",
        ),
        (
            {"n_cases": 4, "values": {}},
            "statistics.n_cases",
            "a count of 4, below the minimum cell size 10",
        ),
    ],
)
def test_a_dataset_with_a_small_cell_cannot_join_a_benchmark(
    api: Api, statistics: dict[str, Any], field: str, reason: str
) -> None:
    """Registered (its statistics seen by its owner and admins only), then refused when
    it asks to join: from there on the benchmark's owner would see them."""
    world = _setup(api)
    body = {
        "name": "small-site",
        "data_preparator_id": world["benchmark"]["data_preparator_id"],
        "data_hash": hashlib.sha256(b"small site").hexdigest(),
        "statistics": statistics,
    }
    dataset = world["hospital"].ok("post", "/datasets", body)
    request = {
        "benchmark_id": world["benchmark"]["id"],
        "kind": "dataset",
        "entity_id": dataset["id"],
    }
    name = world["benchmark"]["name"]
    assert _refusal(world["hospital"].post("/associations", request)) == (
        422,
        "invalid_input",
        f"dataset small-site: its statistics {field} is a small cell: {reason} "
        f"(benchmark {name}); medval's client withholds small cells",
    )
