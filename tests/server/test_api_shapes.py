"""The API shows each resource exactly as its core schema says: no more, no less.

The store hands services records that carry a few ids the API does not show (and never a
password hash); these tests hold the line that only the ``XPublic`` fields leave.
"""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel

from medval.core.result_schemas import LeaderboardPublic, PendingExecution, ResultPublic
from medval.core.schemas import (
    AssociationPublic,
    BenchmarkPublic,
    CubePublic,
    DatasetPublic,
    UserPublic,
)

from .conftest import Api


def _fields(schema: type[BaseModel]) -> set[str]:
    return set(schema.model_fields)


def test_every_resource_has_exactly_its_public_fields(world: dict[str, Any], api: Api) -> None:
    hospital, bench = world["hospital"], world["bench"]
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a serializer warning would mean a shape mismatch
        result = hospital.ok("post", "/results", body)
        benchmark_id = world["benchmark"]["id"]
        singles: list[tuple[type[BaseModel], Any]] = [
            (UserPublic, hospital.ok("get", "/users/me")),
            (CubePublic, world["model"]),
            (CubePublic, hospital.ok("get", f"/cubes/{world['model']['id']}")),
            (BenchmarkPublic, hospital.ok("get", f"/benchmarks/{benchmark_id}")),
            (DatasetPublic, hospital.ok("get", f"/datasets/{world['dataset']['id']}")),
            (ResultPublic, result),
            (ResultPublic, hospital.ok("get", f"/results/{result['id']}")),
            (LeaderboardPublic, bench.ok("get", f"/benchmarks/{benchmark_id}/leaderboard")),
        ]
        lists: list[tuple[type[BaseModel], Any]] = [
            (UserPublic, world["root"].ok("get", "/users")),
            (CubePublic, hospital.ok("get", "/cubes")),
            (BenchmarkPublic, hospital.ok("get", "/benchmarks")),
            (DatasetPublic, hospital.ok("get", "/datasets")),
            (AssociationPublic, bench.ok("get", "/associations")),
            (ResultPublic, bench.ok("get", "/results")),
            (PendingExecution, hospital.ok("get", "/executions/pending")),
        ]
    for schema, shown in singles:
        assert set(shown) == _fields(schema), schema.__name__
    for schema, rows in lists:
        assert rows, f"no {schema.__name__} to look at"
        for row in rows:
            assert set(row) == _fields(schema), schema.__name__


def test_no_answer_carries_a_password_hash(world: dict[str, Any]) -> None:
    for path in ("/users/me", "/users"):
        assert "hash" not in world["root"].get(path).text
