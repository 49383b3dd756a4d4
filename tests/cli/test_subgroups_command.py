"""``medval benchmark subgroups`` against a real server: a table per declared variable
(level, sites, cases, the pooled metric or why withheld), the gap line, its JSON, and one
line for a caller who may not see it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cli.test_shift_command import Medval, as_user  # noqa: F401 (a fixture)
from tests.conftest import LiveServer
from tests.server.conftest import HTTP_TIMEOUT, Api
from tests.server.test_api_subgroups import _document, _federation, _level, _upload


@pytest.fixture
def federation(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT) as http:
        api = Api(http, live_server.settings)
        fed = _federation(api)
        for hospital in ("h1", "h2", "h3"):
            levels = {"<50": _level(400, 120, 0.7), "50-69": _level(600, 180, 0.8)}
            assert _upload(api, fed, hospital, _document(levels)).status_code == 201
        api.user("stranger")
        yield fed


def test_a_table_per_variable_and_the_gap_line(
    federation: dict[str, Any],
    as_user: Callable[[str], Medval],  # noqa: F811
) -> None:
    benchmark_id = str(federation["benchmark"]["id"])
    shown = as_user("v1")("benchmark", "subgroups", benchmark_id)
    assert shown.code == 0, shown.stderr
    assert "model-v1: Age band (age_band)" in shown.stdout
    for column in ("level", "n sites", "n cases", "auroc"):
        assert column in shown.stdout
    rows = [line for line in shown.stdout.splitlines() if "<50" in line or "50-69" in line]
    assert any("<50" in row and "1200" in row and "0.700 [" in row for row in rows)
    assert any("50-69" in row and "1800" in row and "0.800 [" in row for row in rows)
    as_json = as_user("v1")("benchmark", "subgroups", benchmark_id, "--format", "json")
    assert as_json.code == 0
    (gap,) = json.loads(as_json.stdout)["models"][0]["variables"][0]["gaps"]
    assert (
        f"gap in auroc: 50-69 - <50 = 0.100 [{gap['lower']:.3f}, {gap['upper']:.3f}]"
        in shown.stdout
    )


def test_a_caller_who_may_not_see_it_gets_one_line(
    federation: dict[str, Any],
    as_user: Callable[[str], Medval],  # noqa: F811
) -> None:
    refused = as_user("stranger")("benchmark", "subgroups", str(federation["benchmark"]["id"]))
    assert refused.code == 3, refused
    assert refused.stdout == ""
    assert refused.stderr == (
        "error: the subgroup breakdown of bench-subgroups is released to the benchmark "
        "owner, admins and participants only"
    )
