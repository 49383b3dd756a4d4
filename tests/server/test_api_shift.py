"""The shift between a benchmark's sites over the API: one site that differs markedly is
flagged (the measure, its value and threshold said), the others are not; each site is
shown to whoever sees its results on the leaderboard, and to nobody else."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest

from medval.core.api import PREFIX
from medval.core.documents import DatasetStatistics
from medval.core.schemas import DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind

from .conftest import Api, User

STATISTICS = {
    "h1": {"n_cases": 200, "values": {"event_rate": 0.3, "grade": {"g1": 50, "g2": 100, "g3": 50}}},
    "h2": {"n_cases": 200, "values": {"event_rate": 0.3, "grade": {"g1": 50, "g2": 100, "g3": 50}}},
    # Not 0.8: that would be 16 of the 20 in g1, and leave 4 (a small cell).
    "h3": {
        "n_cases": 200,
        "values": {"event_rate": 0.785, "grade": {"g1": 20, "g2": 40, "g3": 140}},
    },
}


def _shift(api: Api, user: User | None, benchmark: Any) -> Any:
    path = f"{PREFIX}/benchmarks/{benchmark['id']}/shift"
    return api.client.get(path, headers=user.headers if user else {})


def _federation(api: Api, policy: str, min_sites: int = 2) -> dict[str, Any]:
    """Three hospitals (h3 differs), one vendor's model with a result at each site."""
    people = {n: api.user(n) for n in ("bench", "h1", "h2", "h3", "v1", "stranger")}
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root, policy=policy, min_sites=min_sites)
    model = api.cube(people["v1"], "model", name="model-v1")
    api.associate(people["v1"], benchmark, "model", model, people["bench"])
    datasets = {}
    for hospital, statistics in STATISTICS.items():
        body = {
            "name": f"site-{hospital}",
            "data_preparator_id": benchmark["data_preparator_id"],
            "data_hash": hashlib.sha256(hospital.encode()).hexdigest(),
            "statistics": statistics,
            "stage": "operation",
        }
        datasets[hospital] = people[hospital].ok("post", "/datasets", body)
        api.associate(people[hospital], benchmark, "dataset", datasets[hospital], people["bench"])
        result = api.result_body(benchmark, datasets[hospital], model)
        people[hospital].ok("post", "/results", result)
    return {"root": root, **people, "benchmark": benchmark, "datasets": datasets}


def _comparison(site: dict[str, Any], variable: str, measure: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        c for c in site["comparisons"] if (c["variable"], c["measure"]) == (variable, measure)
    ]
    assert len(found) == 1
    return found[0]


def _h(p: float, q: float) -> float:
    return 2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(q))


def test_the_site_that_differs_is_flagged_with_measure_value_and_threshold(api: Api) -> None:
    fed = _federation(api, "participants")
    response = _shift(api, fed["bench"], fed["benchmark"])
    assert response.status_code == 200
    shift = response.json()
    assert (shift["n_sites"], shift["min_cell_count"]) == (3, 10)
    sites = {s["dataset"]: s for s in shift["sites"]}
    assert [sites[f"site-h{i}"]["flagged"] for i in (1, 2, 3)] == [False, False, True]
    h3 = sites["site-h3"]
    assert (h3["n_cases"], h3["n_reference_sites"], h3["withheld"]) == (200, 2, None)
    # h3 against h1 + h2: event rate .785 vs .3; h = 2 asin(sqrt .785) - 2 asin(sqrt .3)
    rate = _comparison(h3, "event_rate", "cohens_h")
    assert rate["value"] == pytest.approx(_h(0.785, 0.3), abs=1e-9)
    assert rate["value"] == pytest.approx(1.018023, abs=1e-6)
    assert (rate["threshold"], rate["flagged"]) == (0.5, True)
    assert (rate["site_value"], rate["others_value"]) == (0.785, 0.3)
    # grade [.1, .2, .7] vs [.25, .5, .25]: -.15 ln .4 - .3 ln .4 + .45 ln 2.8 = 0.875660
    grade = _comparison(h3, "grade", "psi")
    assert grade["value"] == pytest.approx(0.875660, abs=1e-6)
    assert (grade["threshold"], grade["flagged"]) == (0.25, True)
    assert [(b["name"], b["site_count"]) for b in grade["bins"]] == [
        ("g1", 20),
        ("g2", 40),
        ("g3", 140),
    ]
    # h1 against h2 + h3: event rate (200 * .3 + 200 * .785) / 400 = .5425: h = -0.4966,
    # just short of 0.5; grade [70, 140, 190] / 400 = [.175, .35, .475]:
    # .075 ln(.25/.175) + .15 ln(.5/.35) - .225 ln(.25/.475) = 0.224669, short of 0.25
    h1 = sites["site-h1"]
    h1_rate = _comparison(h1, "event_rate", "cohens_h")
    assert h1_rate["value"] == pytest.approx(_h(0.3, 0.5425), abs=1e-9)
    assert h1_rate["value"] == pytest.approx(-0.496620, abs=1e-6)
    assert not h1_rate["flagged"]
    assert _comparison(h1, "grade", "psi")["value"] == pytest.approx(0.224669, abs=1e-6)
    thresholds = {t["measure"]: t["marked"] for t in shift["thresholds"]}
    assert thresholds == {
        "psi": 0.25,
        "jensen_shannon": None,
        "difference": None,
        "cohens_h": 0.5,
        "smd": 0.5,
    }


def _sites_on(response: Any, key: str) -> set[int]:
    body = response.json()
    if key == "leaderboard":
        return {s["dataset_id"] for e in body["entries"] for s in e["sites"]}
    return {s["dataset_id"] for s in body["sites"]}


def test_each_caller_sees_the_sites_the_leaderboard_shows_them(api: Api) -> None:
    fed = _federation(api, "participants")
    ids = {h: d["id"] for h, d in fed["datasets"].items()}
    expected = {
        "bench": set(ids.values()),
        "root": set(ids.values()),
        "v1": set(ids.values()),  # its model's results, released (3 sites >= 2)
        "h1": {ids["h1"]},
        "h3": {ids["h3"]},
    }
    for name, sites in expected.items():
        caller = fed[name]
        board = api.client.get(
            f"{PREFIX}/benchmarks/{fed['benchmark']['id']}/leaderboard?sites=true",
            headers=caller.headers,
        )
        shift = _shift(api, caller, fed["benchmark"])
        assert (shift.status_code, board.status_code) == (200, 200)
        assert _sites_on(shift, "shift") == _sites_on(board, "leaderboard") == sites, name


def test_a_visitor_and_an_outsider_see_nothing_under_a_participants_policy(api: Api) -> None:
    fed = _federation(api, "participants")
    name = fed["benchmark"]["name"]
    visitor = _shift(api, None, fed["benchmark"])
    assert visitor.status_code == 401
    assert (
        visitor.json()["error"]["message"]
        == "log in to see this shift between sites; it is not public"
    )
    outsider = _shift(api, fed["stranger"], fed["benchmark"])
    assert outsider.status_code == 403
    assert outsider.json()["error"]["message"] == (
        f"the shift between sites of {name} is released to the benchmark owner, "
        "admins and participants only"
    )


def test_a_public_benchmark_shows_a_visitor_no_site(api: Api) -> None:
    fed = _federation(api, "public")
    visitor = _shift(api, None, fed["benchmark"])
    assert visitor.status_code == 200
    assert (visitor.json()["n_sites"], visitor.json()["sites"]) == (3, [])


def test_fewer_other_sites_than_min_sites_withholds_the_comparison(api: Api) -> None:
    fed = _federation(api, "participants", min_sites=3)
    (own,) = _shift(api, fed["h1"], fed["benchmark"]).json()["sites"]
    assert own["withheld"] == (
        "compared with 2 other site(s), fewer than the 3 this benchmark releases pooled "
        "figures from"
    )
    assert (own["comparisons"], own["flagged"]) == ([], False)
    # The benchmark owner may see every site's statistics: nothing is withheld from them.
    sites = _shift(api, fed["bench"], fed["benchmark"]).json()["sites"]
    assert [s["withheld"] for s in sites] == [None, None, None]


def test_a_bin_count_below_min_cell_count_is_never_shown(api: Api) -> None:
    """Statistics registered before the server refused small cells (put in the store here,
    as no request can) go through medval's suppression before they are compared."""
    fed = _federation(api, "participants")
    ctx = api.client.app.state.context  # type: ignore[attr-defined]
    old = DatasetCreate(
        name="site-old",
        data_preparator_id=fed["benchmark"]["data_preparator_id"],
        data_hash=hashlib.sha256(b"old").hexdigest(),
        statistics=DatasetStatistics(n_cases=100, values={"grade": {"g1": 4, "g2": 30, "g3": 66}}),
    )
    with ctx.transaction(None) as tx:
        dataset = tx.add_dataset(fed["h1"].id, old, ctx.clock())
        association = tx.add_association(
            fed["benchmark"]["id"], AssociationKind.DATASET, dataset.id, fed["h1"].id, ctx.clock()
        )
        tx.decide_association(association.id, ApprovalStatus.APPROVED, fed["bench"].id, ctx.clock())
    sites = {s["dataset"]: s for s in _shift(api, fed["bench"], fed["benchmark"]).json()["sites"]}
    # g1 (4) is a small cell; g2, the smallest other, goes with it (n - g3 would give it
    # back): only g3 is left at that site, fewer than two bins reported everywhere.
    assert sites["site-old"]["not_compared"]["grade"] == (
        "fewer than two bins reported at every site"
    )
    assert (sites["site-old"]["n_cases"], sites["site-old"]["comparisons"]) == (100, [])
    assert "grade" not in {c["variable"] for c in sites["site-h1"]["comparisons"]}
