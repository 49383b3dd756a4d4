"""``medval benchmark phase edit`` against a real server (issue 19): the committee changes
a phase's dates; each refusal one line with its exit code, and the dates stay."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cli.test_shift_command import Medval
from tests.conftest import LiveServer
from tests.server.conftest import HTTP_TIMEOUT, Api, make_world


@pytest.fixture
def world(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT) as http:
        api = Api(http, live_server.settings)
        yield make_world(api) | {"api": api}


def _dates(run: Medval, benchmark_id: str) -> dict[str, tuple[str, str | None]]:
    listed = run("benchmark", "phase", "list", benchmark_id, "--format", "json")
    assert listed.code == 0, listed.stderr
    return {p["name"]: (p["opens_at"], p["closes_at"]) for p in json.loads(listed.stdout)}


def test_the_committee_extends_a_phase_and_bad_dates_are_one_line(
    world: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    bench, b = as_user("bench"), str(world["benchmark"]["id"])
    name = world["benchmark"]["name"]
    add = ("benchmark", "phase", "add", b, "before", "--opens", "2020-01-01")
    assert bench(*add, "--closes", "2020-02-01").code == 0
    edit = ("benchmark", "phase", "edit", b, "before")
    extended = bench(*edit, "--closes", "2020-03-01", "--format", "json")
    assert extended.code == 0, extended.stderr
    assert json.loads(extended.stdout)["closes_at"] == "2020-03-01T00:00:00Z"
    kept = _dates(bench, b)
    opened = kept["main"][0][:10]
    refusals = [
        (["--closes", "2020-04-01", "--no-end"], 2, "give --closes or --no-end, not both"),
        (
            ["--no-end"],
            5,
            f"phase before (from 2020-01-01) overlaps phase main (from {opened}) of benchmark "
            f"{name}",
        ),
        (
            ["--closes", "2019-12-01"],
            2,
            "phase before closes (2019-12-01T00:00:00+00:00) before it opens "
            "(2020-01-01T00:00:00+00:00)",
        ),
        (
            ["--opens", "spring"],
            2,
            "--opens 'spring' is not an ISO date: give e.g. 2027-01-01 or 2027-01-01T09:00Z",
        ),
        ([], 2, "give a new opens_at or closes_at (or no end): nothing to change"),
    ]
    for args, code, message in refusals:
        refused = bench(*edit, *args)
        assert (refused.code, refused.stdout, refused.stderr) == (code, "", f"error: {message}")
    unknown = bench("benchmark", "phase", "edit", b, "after", "--no-end")
    assert (unknown.code, unknown.stderr) == (
        4,
        f"error: benchmark {name} has no phase 'after' (its phases: before, main)",
    )
    outsider = as_user("vendor")(*edit, "--closes", "2020-05-01")
    assert (outsider.code, outsider.stderr) == (
        3,
        f"error: only the owner of benchmark {name} (or an admin) may do this",
    )
    assert bench("benchmark", "phase", "close", b, "before", "--yes").code == 0
    frozen = bench(*edit, "--closes", "2020-05-01")
    assert frozen.code == 5
    assert frozen.stderr.startswith(f"error: phase before of benchmark {name} was closed on ")
    assert frozen.stderr.endswith(": it is frozen, its dates too")
    assert _dates(bench, b) == kept
