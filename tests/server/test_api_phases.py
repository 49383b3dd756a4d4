"""Phases and publication through the API (issue 19), on SQLite and on PostgreSQL: every
result belongs to the phase open when it is sent; a closed phase is frozen, its board
archived with its content hash; a held result is invisible until the committee decides.
Bad input gets one line and nothing stored is lost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medval.core.result_schemas import LeaderboardPublic
from medval.trust.archived_boards import board_hash

from .both_stores import postgres_url, settings
from .conftest import Api, Clock, User
from .phase_world import close, held_phase, held_result, phases_of

__all__ = ["postgres_url", "settings"]  # fixtures: every test on both stores


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def _phases_path(benchmark: Any) -> str:
    return f"/benchmarks/{benchmark['id']}/phases"


def _board(user: User, benchmark: Any, phase: str | None = None) -> Any:
    query = f"?phase={phase}" if phase else ""
    return user.ok("get", f"/benchmarks/{benchmark['id']}/leaderboard{query}")


def test_a_benchmark_has_one_phase_and_its_results_are_in_it(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital = world["bench"], world["hospital"]
    (main,) = phases_of(bench, world["benchmark"])
    assert (main["name"], main["closes_at"], main["publication"]) == ("main", None, "automatic")
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    result = hospital.ok("post", "/results", body)
    assert (result["phase_id"], result["phase"], result["publication"]) == (
        main["id"],
        "main",
        "automatic",
    )
    board = _board(bench, world["benchmark"])
    assert board["phase"] == "main"
    assert [e["model"] for e in board["entries"]] == [world["model"]["name"]]


def test_bad_phases_get_one_line_and_nothing_stored_is_lost(
    api: Api, world: dict[str, Any]
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    path = _phases_path(benchmark)
    before = {"name": "before", "opens_at": "2024-01-01T00:00Z", "closes_at": "2024-03-01T00:00Z"}
    bench.ok("post", path, before)
    cases = [
        (  # overlaps the open-ended first phase, opened 2024-05-01
            {"name": "later", "opens_at": "2024-06-01T00:00Z"},
            409,
            f"phase later (from 2024-06-01) overlaps phase main (from 2024-05-01) of "
            f"benchmark {benchmark['name']}",
        ),
        (
            {"name": "inside", "opens_at": "2024-02-01T00:00Z", "closes_at": "2024-02-02T00:00Z"},
            409,
            f"phase inside (2024-02-01 to 2024-02-02) overlaps phase before (2024-01-01 to "
            f"2024-03-01) of benchmark {benchmark['name']}",
        ),
        (
            {
                "name": "backwards",
                "opens_at": "2023-02-01T00:00Z",
                "closes_at": "2023-01-01T00:00Z",
            },
            422,
            "body: phase backwards closes (2023-01-01T00:00:00+00:00) before it "
            "opens (2023-02-01T00:00:00+00:00)",
        ),
        (
            {"name": "before", "opens_at": "2023-01-01T00:00Z", "closes_at": "2023-02-01T00:00Z"},
            409,
            f"benchmark {benchmark['name']} already has a phase named before",
        ),
    ]
    for body, status, message in cases:
        assert _error(bench.post(path, body)) == (status, message), body
    assert _error(bench.post("/benchmarks/999/phases", before | {"name": "x"})) == (
        404,
        "benchmark 999 does not exist",
    )
    assert _error(world["vendor"].post(path, before | {"name": "x"})) == (
        403,
        f"only the owner of benchmark {benchmark['name']} (or an admin) may do this",
    )
    assert [p["name"] for p in phases_of(bench, benchmark)] == ["before", "main"]


def test_a_closed_phase_is_frozen_and_its_board_archived_with_its_hash(
    api: Api, world: dict[str, Any], clock: Clock
) -> None:
    bench, hospital, benchmark = world["bench"], world["hospital"], world["benchmark"]
    hospital.ok("post", "/results", api.result_body(benchmark, world["dataset"], world["model"]))
    live = _board(bench, benchmark)
    clock.advance(hours=2)
    closed = close(bench, benchmark, "main")
    assert closed["closed_at"] is not None and len(closed["board_hash"]) == 64
    # No new result, in one line.
    clock.advance(hours=1)
    late_model = api.cube(world["vendor"], "model")
    api.associate(world["vendor"], benchmark, "model", late_model, bench)
    late = api.result_body(benchmark, world["dataset"], late_model)
    assert _error(hospital.post("/results", late)) == (
        409,
        f"phase main of benchmark {benchmark['name']} closed on 2024-05-01 11:00 UTC: it takes "
        "no new results, and no other phase is open",
    )
    # Nor is any work pending there any more.
    assert hospital.ok("get", "/executions/pending") == []
    # Its board is the archived one: the same for everyone who may see it, re-verifiable.
    for viewer in (bench, hospital, world["vendor"]):
        archived = _board(viewer, benchmark, "main")
        assert archived["archived_hash"] == closed["board_hash"]
        assert board_hash(LeaderboardPublic.model_validate(archived)) == closed["board_hash"]
    assert archived["entries"] == [
        {k: v for k, v in e.items() if k != "sites"} | {"sites": []} for e in live["entries"]
    ]
    assert _board(bench, benchmark) == archived  # the last phase, when none is open
    assert _error(bench.post(f"{_phases_path(benchmark)}/main/closure", {})) == (
        409,
        f"phase main of benchmark {benchmark['name']} was closed on 2024-05-01 11:00 UTC already",
    )
    entries = world["root"].ok("get", "/audit?entity_kind=phase")
    assert [e["action"] for e in entries] == ["phase.add", "phase.close"]


def test_the_next_phase_runs_the_models_again_on_a_board_of_its_own(
    api: Api, world: dict[str, Any], clock: Clock
) -> None:
    bench, hospital, benchmark = world["bench"], world["hospital"], world["benchmark"]
    model, dataset = world["model"], world["dataset"]
    first = hospital.ok("post", "/results", api.result_body(benchmark, dataset, model, auroc=0.7))
    clock.advance(hours=2)
    closed = close(bench, benchmark, "main")
    bench.ok("post", _phases_path(benchmark), {"name": "final", "opens_at": closed["closed_at"]})
    pending = hospital.ok("get", "/executions/pending")
    assert sorted(p["model_id"] for p in pending) == sorted(
        [model["id"], benchmark["reference_model_id"]]
    )
    again = hospital.ok("post", "/results", api.result_body(benchmark, dataset, model, auroc=0.9))
    assert (again["phase"], first["phase"]) == ("final", "main")
    final = _board(bench, benchmark)
    assert final["phase"] == "final" and final["archived_hash"] is None
    assert final["entries"][0]["pooled"]["auroc"]["value"] == pytest.approx(0.9)
    main = _board(bench, benchmark, "main")
    assert main["entries"][0]["pooled"]["auroc"]["value"] == pytest.approx(0.7)
    assert _error(bench.get(f"/benchmarks/{benchmark['id']}/leaderboard?phase=nope")) == (
        404,
        f"benchmark {benchmark['name']} has no phase 'nope' (its phases: main, final)",
    )


def test_a_held_result_is_seen_only_by_the_committee_and_its_site_until_published(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital, vendor, stranger = (world[n] for n in ("bench", "hospital", "vendor",
                                                              "stranger"))  # fmt: skip
    benchmark, model, result = held_result(api, bench, world["root"], hospital, vendor)
    path = f"/results/{result['id']}"
    for viewer in (bench, hospital, world["root"]):
        assert viewer.ok("get", path)["publication"] == "held"
    for viewer in (vendor, stranger):
        assert _error(viewer.get(path)) == (404, f"result {result['id']} does not exist")
    assert _board(bench, benchmark)["entries"] == []
    # Only the committee decides; others get one line.
    assert _error(vendor.post(f"{path}/publication", {})) == (
        404,
        f"result {result['id']} does not exist",
    )
    assert _error(hospital.post(f"{path}/publication", {})) == (
        403,
        f"only the committee of benchmark {benchmark['name']} (its owner) may publish or "
        f"withhold result {result['id']}",
    )
    assert _error(bench.post("/results/999/publication", {})) == (
        404,
        "result 999 does not exist",
    )
    other = api.benchmark(stranger, approve_by=world["root"])
    assert other["owner"] == "stranger"  # the owner of another benchmark decides nothing here
    assert _error(stranger.post(f"{path}/publication", {})) == (
        404,
        f"result {result['id']} does not exist",
    )
    # The phase cannot close while a result waits for the committee.
    assert _error(bench.post(f"{_phases_path(benchmark)}/final/closure", {})) == (
        409,
        f"phase final of benchmark {benchmark['name']} has 1 held result(s) ({result['id']}): "
        "publish or withhold each before closing it",
    )
    published = bench.ok("post", f"{path}/publication", {})
    assert published["publication"] == "published"
    assert vendor.ok("get", path)["publication"] == "published"
    assert [e["model"] for e in _board(vendor, benchmark)["entries"]] == [model["name"]]
    assert _error(bench.post(f"{path}/publication", {})) == (
        409,
        f"result {result['id']} is published already",
    )


def test_a_withheld_result_shows_its_reason_to_the_model_owner_and_stays_off_the_board(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital, vendor = world["bench"], world["hospital"], world["vendor"]
    benchmark, _, result = held_result(api, bench, world["root"], hospital, vendor)
    path = f"/results/{result['id']}"
    assert _error(bench.post(f"{path}/withholding", {"reason": "  "})) == (
        422,
        "withholding a result needs a reason (--reason): its model's owner sees it",
    )
    withheld = bench.ok("post", f"{path}/withholding", {"reason": "ran on the wrong cohort"})
    seen = vendor.ok("get", path)
    assert (seen["publication"], seen["publication_reason"]) == (
        "withheld",
        "ran on the wrong cohort",
    )
    assert withheld == seen
    assert _error(world["stranger"].get(path)) == (404, f"result {result['id']} does not exist")
    assert _board(bench, benchmark)["entries"] == []
    entries = world["root"].ok("get", f"/audit?entity_kind=result&entity_id={result['id']}")
    assert [e["action"] for e in entries] == ["result.add", "result.withhold"]


def test_publishing_a_result_released_by_the_release_policy_is_refused(
    api: Api, world: dict[str, Any]
) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    result = world["hospital"].ok("post", "/results", body)
    assert _error(world["bench"].post(f"/results/{result['id']}/publication", {})) == (
        409,
        f"result {result['id']} is in phase main of benchmark {world['benchmark']['name']}, "
        "whose results are released by its release policy, not held for the committee",
    )


def test_a_phase_not_open_yet_refuses_results_and_says_when_it_opens(
    api: Api, world: dict[str, Any], clock: Clock
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    held_phase(bench, benchmark)  # "final" opens at once: close it, and add one later
    close(bench, benchmark, "final")
    bench.ok("post", _phases_path(benchmark), {"name": "next", "opens_at": "2024-05-01T12:00Z"})
    body = api.result_body(benchmark, world["dataset"], world["model"])
    assert _error(world["hospital"].post("/results", body)) == (
        409,
        f"phase final of benchmark {benchmark['name']} closed on 2024-05-01 09:00 UTC: it "
        "takes no new results, and no other phase is open",
    )
    clock.advance(hours=3)
    assert world["hospital"].ok("post", "/results", body)["phase"] == "next"


def test_a_phase_with_its_own_evaluator_runs_and_checks_that_one(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital, benchmark = world["bench"], world["hospital"], world["benchmark"]
    evaluator = api.cube(bench, "evaluator")
    closed = close(bench, benchmark, "main")
    body = {"name": "v2", "opens_at": closed["closed_at"], "evaluator_id": evaluator["id"]}
    phase = bench.ok("post", _phases_path(benchmark), body)
    assert phase["evaluator_id"] == evaluator["id"]
    pending = hospital.ok("get", "/executions/pending")
    assert {(p["phase"], p["evaluator_id"]) for p in pending} == {("v2", evaluator["id"])}
    old = api.result_body(benchmark, world["dataset"], world["model"])
    assert _error(hospital.post("/results", old)) == (
        422,
        "provenance does not match what is registered: evaluator_hash; the result was not "
        "produced by the registered artifacts",
    )
    new = api.result_body(
        benchmark, world["dataset"], world["model"], evaluator_hash=evaluator["archive_hash"]
    )
    assert hospital.ok("post", "/results", new)["phase"] == "v2"
    wrong_kind = body | {"name": "v0", "evaluator_id": world["model"]["id"]}
    wrong_kind |= {"opens_at": "2020-01-01T00:00Z", "closes_at": "2020-02-01T00:00Z"}
    assert _error(bench.post(_phases_path(benchmark), wrong_kind)) == (
        422,
        f"evaluator must be a cube of kind evaluator; cube {world['model']['id']} "
        f"({world['model']['name']}) is a model",
    )
    assert [p["name"] for p in phases_of(bench, benchmark)] == ["main", "v2"]


def test_subgroups_pool_the_current_phase_and_never_a_held_result(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital, vendor = world["bench"], world["hospital"], world["vendor"]
    benchmark, _, result = held_result(api, bench, world["root"], hospital, vendor)
    path = f"/benchmarks/{benchmark['id']}/subgroups"
    assert bench.ok("get", path)["models"] == []
    bench.ok("post", f"/results/{result['id']}/publication", {})
    assert [m["model_id"] for m in bench.ok("get", path)["models"]] == [result["model_id"]]


def test_the_results_export_holds_a_held_result_back_until_it_is_published(
    api: Api, world: dict[str, Any]
) -> None:
    bench, hospital, vendor = world["bench"], world["hospital"], world["vendor"]
    benchmark, model, result = held_result(api, bench, world["root"], hospital, vendor)
    export = f"/benchmarks/{benchmark['id']}/exports/results"
    assert bench.ok("get", export)["results"] == []
    bench.ok("post", f"/results/{result['id']}/publication", {})
    rows = bench.ok("get", export)["results"]
    assert [(r["result_id"], r["phase"], r["model"]) for r in rows] == [
        (result["id"], "final", model["name"])
    ]
