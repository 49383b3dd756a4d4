"""``medval benchmark phase add|list|show|close``, ``medval benchmark leaderboard --phase``
and ``medval result publish|withhold`` against a real server (issue 19): the committee's
commands, each refusal one line with its exit code, nothing stored lost."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cli.test_shift_command import Medval
from tests.conftest import LiveServer
from tests.server.conftest import HTTP_TIMEOUT, Api, make_world
from tests.server.phase_world import held_result


@pytest.fixture
def world(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT) as http:
        api = Api(http, live_server.settings)
        yield make_world(api) | {"api": api}


def _names(run: Medval, benchmark_id: str) -> list[str]:
    listed = run("benchmark", "phase", "list", benchmark_id, "--format", "json")
    assert listed.code == 0, listed.stderr
    return [phase["name"] for phase in json.loads(listed.stdout)]


def test_the_committee_adds_lists_shows_and_closes_phases(
    world: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    bench = as_user("bench")
    benchmark_id = str(world["benchmark"]["id"])
    added = bench(
        "benchmark", "phase", "add", benchmark_id, "before",
        "--opens", "2020-01-01", "--closes", "2020-02-01", "--held", "--format", "json",
        "--models", "2", "--executions-per-day", "0",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    phase = json.loads(added.stdout)
    assert (phase["opens_at"], phase["closes_at"], phase["publication"]) == (
        "2020-01-01T00:00:00Z",
        "2020-02-01T00:00:00Z",
        "held",
    )
    quotas = (phase["max_models_per_owner"], phase["max_executions_per_site_per_day"])
    assert quotas == (2, 0)
    assert _names(bench, benchmark_id) == ["before", "main"]
    # Past its end, not closed: each view says so, and nothing closes it for the committee.
    ended = (
        "phase before ended on 2020-02-01 00:00 UTC, not closed: close it to archive its "
        "leaderboard (until then its board is live, not archived)"
    )
    listed = bench("benchmark", "phase", "list", benchmark_id)
    assert (listed.code, listed.stderr) == (0, ended)
    assert re.search(r"│ before +│ ended +│", listed.stdout), listed.stdout
    assert re.search(r"│ main +│ open +│", listed.stdout), listed.stdout
    before = bench("benchmark", "phase", "show", benchmark_id, "before")
    assert (before.code, before.stderr) == (0, ended)
    as_json = bench("benchmark", "phase", "list", benchmark_id, "--format", "json")
    states = [(p["name"], p["state"], p["closed_at"]) for p in json.loads(as_json.stdout)]
    assert states == [("before", "ended", None), ("main", "open", None)]
    closed = bench("benchmark", "phase", "close", benchmark_id, "main", "--yes")
    assert closed.code == 0, closed.stderr
    shown = bench("benchmark", "phase", "show", benchmark_id, "main", "--format", "json")
    digest = json.loads(shown.stdout)["board_hash"]
    assert closed.stderr == f"phase main is closed; leaderboard archived, sha256 {digest}"
    table = bench("benchmark", "phase", "show", benchmark_id, "main")
    assert (table.code, table.stderr) == (0, f"archived leaderboard: sha256 {digest} (verified)")
    assert re.search(r"│ state +│ closed +│", table.stdout), table.stdout
    board = bench("benchmark", "leaderboard", benchmark_id, "--phase", "main")
    assert board.code == 0, board.stderr
    assert f"archived when phase main closed: sha256 {digest}" in board.stdout
    assert board.stdout.splitlines()[0] == "phase main (closed: the archived board)"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["later", "--opens", "2030-01-01"],
            5,
            "phase later (from 2030-01-01) overlaps phase main (from {opened}) of benchmark {name}",
        ),
        (
            ["backwards", "--opens", "2020-03-01", "--closes", "2020-02-01"],
            2,
            "phase backwards closes (2020-02-01T00:00:00+00:00) before it opens "
            "(2020-03-01T00:00:00+00:00)",
        ),
        (
            ["main", "--opens", "2020-01-01", "--closes", "2020-02-01"],
            5,
            "benchmark {name} already has a phase named main",
        ),
        (
            ["sparse", "--opens", "2020-01-01", "--closes", "2020-02-01", "--models", "-1"],
            2,
            "max_models_per_owner: Input should be greater than or equal to 0",
        ),
        (
            ["soon", "--opens", "first of may"],
            2,
            "--opens 'first of may' is not an ISO date: give e.g. 2027-01-01 or 2027-01-01T09:00Z",
        ),
    ],
)
def test_bad_phases_get_one_line_and_exit_code_and_lose_nothing(
    world: dict[str, Any],
    as_user: Callable[[str], Medval],
    args: list[str],
    code: int,
    message: str,
) -> None:
    bench = as_user("bench")
    benchmark = world["benchmark"]
    benchmark_id = str(benchmark["id"])
    refused = bench("benchmark", "phase", "add", benchmark_id, *args)
    opened = benchmark["created_at"][:10]
    assert (refused.code, refused.stdout) == (code, ""), refused
    assert refused.stderr == "error: " + message.format(opened=opened, name=benchmark["name"])
    assert _names(bench, benchmark_id) == ["main"]


def test_an_unknown_benchmark_or_an_outsider_gets_one_line(
    world: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    unknown = as_user("bench")("benchmark", "phase", "add", "999", "p", "--opens", "2020-01-01")
    assert (unknown.code, unknown.stderr) == (4, "error: benchmark 999 does not exist")
    outsider = as_user("vendor")(
        "benchmark", "phase", "close", str(world["benchmark"]["id"]), "main", "--yes"
    )
    assert (outsider.code, outsider.stderr) == (
        3,
        f"error: only the owner of benchmark {world['benchmark']['name']} (or an admin) may "
        "do this",
    )


def test_the_committee_publishes_and_withholds_held_results(
    world: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    api: Api = world["api"]
    people = [world[n] for n in ("bench", "root", "hospital", "vendor")]
    _, _, first = held_result(api, *people)
    other, _, second = held_result(api, *people)
    bench, vendor = as_user("bench"), as_user("vendor")
    hidden = vendor("results", "show", str(first["id"]))
    assert (hidden.code, hidden.stderr) == (4, f"error: result {first['id']} does not exist")
    published = bench("results", "publish", str(first["id"]), "--yes")
    assert (published.code, published.stderr) == (
        0,
        f"result {first['id']} ({first['model']} on {first['dataset']}) is published",
    )
    withheld = bench("results", "withhold", str(second["id"]), "--reason", "wrong cohort", "--yes")
    assert withheld.code == 0, withheld.stderr
    seen = vendor("results", "show", str(second["id"]), "--format", "json")
    assert seen.code == 0, seen.stderr
    shown = json.loads(seen.stdout)
    assert (shown["publication"], shown["publication_reason"]) == ("withheld", "wrong cohort")
    assert (
        json.loads(vendor("results", "show", str(first["id"]), "--format", "json").stdout)[
            "publication"
        ]
        == "published"
    )
    # Not the committee's, or no such result: one line, non-zero.
    theirs = vendor("results", "publish", str(second["id"]), "--yes")
    assert (theirs.code, theirs.stderr) == (
        3,
        f"error: only the committee of benchmark {other['name']} (its owner) may publish or "
        f"withhold result {second['id']}",
    )
    unknown = bench("results", "publish", "999", "--yes")
    assert (unknown.code, unknown.stderr) == (4, "error: result 999 does not exist")
    no_reason = bench("results", "withhold", str(first["id"]), "--yes")
    assert no_reason.code == 2 and "--reason" in no_reason.stderr
