"""Subgroups over the API: the server refuses a small level or an undeclared variable on
upload; GET /benchmarks/{id}/subgroups pools each level across sites per model, with the
gap between levels, released as the leaderboard is."""

from __future__ import annotations

import hashlib
from typing import Any

from medval.core.api import PREFIX

from .conftest import Api, User

AGE = {"name": "age_band", "label": "Age band", "levels": ["<50", "50-69", "70+"]}


def _level(n: int, positive: int, auroc: float) -> dict[str, Any]:
    metric = {"value": auroc, "lower": auroc - 0.1, "upper": auroc + 0.1}
    return {"n_cases": n, "n_positive": positive, "metrics": {"auroc": metric}}


def _document(levels: dict[str, Any]) -> dict[str, Any]:
    auroc = {"value": 0.75, "lower": 0.7, "upper": 0.8}
    return {
        "n_cases": 1000,
        "n_positive": 300,
        "metrics": {"auroc": auroc},
        "subgroups": {"age_band": levels},
    }


def _federation(api: Api, sites: int = 3) -> dict[str, Any]:
    """A benchmark declaring age_band (min_sites 3); one vendor's model at each site."""
    people = {n: api.user(n) for n in ("bench", "h1", "h2", "h3", "v1")}
    root = User("root", 1, api)
    plain = api.benchmark(people["bench"])
    body = {
        key: plain[key]
        for key in ("data_preparator_id", "reference_model_id", "evaluator_id", "demo_data_hash")
    } | {"name": "bench-subgroups", "stage": "operation", "min_sites": 3, "subgroups": [AGE]}
    benchmark = people["bench"].ok("post", "/benchmarks", body)
    benchmark = root.ok("put", f"/benchmarks/{benchmark['id']}/approval", {"status": "approved"})
    model = api.cube(people["v1"], "model", name="model-v1")
    api.associate(people["v1"], benchmark, "model", model, people["bench"])
    datasets = {}
    for hospital in ("h1", "h2", "h3")[:sites]:
        dataset = {
            "name": f"site-{hospital}",
            "data_preparator_id": benchmark["data_preparator_id"],
            "data_hash": hashlib.sha256(hospital.encode()).hexdigest(),
            "statistics": {"n_cases": 1000},
            "stage": "operation",
        }
        datasets[hospital] = people[hospital].ok("post", "/datasets", dataset)
        api.associate(people[hospital], benchmark, "dataset", datasets[hospital], people["bench"])
    return {**people, "benchmark": benchmark, "datasets": datasets, "model": model}


def _upload(api: Api, fed: dict[str, Any], hospital: str, document: dict[str, Any]) -> Any:
    body = api.result_body(fed["benchmark"], fed["datasets"][hospital], fed["model"])
    body["document"] = document
    return fed[hospital].post("/results", body)


def _subgroups(fed: dict[str, Any], who: str) -> Any:
    return fed[who].get(f"/benchmarks/{fed['benchmark']['id']}/subgroups")


def test_a_small_level_is_refused_on_upload(api: Api) -> None:
    fed = _federation(api, sites=1)
    levels = {
        "<50": _level(3, 1, 0.7),
        "50-69": _level(497, 150, 0.7),
        "70+": _level(500, 149, 0.8),
    }
    response = _upload(api, fed, "h1", _document(levels))
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["message"]) == (
        422,
        "invalid_input",
        "the result's document.subgroups.age_band.<50 is a small cell: 3 cases, fewer than "
        "the minimum cell size 10 (benchmark bench-subgroups); medval's client withholds "
        "small cells",
    )
    assert fed["bench"].ok("get", "/results") == []


def test_an_undeclared_variable_or_level_is_refused_on_upload(api: Api) -> None:
    fed = _federation(api, sites=1)
    document = _document({"<50": _level(500, 150, 0.7), "50+": _level(500, 150, 0.8)})
    response = _upload(api, fed, "h1", document)
    assert (response.status_code, response.json()["error"]["message"]) == (
        422,
        "the result's document: subgroup age_band has level 50+, not one declared "
        "(<50, 50-69, 70+) (benchmark bench-subgroups)",
    )
    document["subgroups"] = {"grade": {"g1": _level(500, 150, 0.7)}}
    response = _upload(api, fed, "h1", document)
    assert (response.status_code, response.json()["error"]["message"]) == (
        422,
        "the result's document: subgroup variable grade is not declared by the benchmark "
        "(age_band) (benchmark bench-subgroups)",
    )


def test_levels_pooled_across_sites_with_the_gap(api: Api) -> None:
    fed = _federation(api)
    for hospital in ("h1", "h2", "h3"):
        levels = {"<50": _level(400, 120, 0.7), "50-69": _level(600, 180, 0.8)}
        if hospital == "h3":  # only h3 reports 70+: one site's figure is not released
            levels = {"<50": _level(400, 100, 0.7), "50-69": _level(300, 100, 0.8)}
            levels["70+"] = _level(300, 100, 0.9)
        assert _upload(api, fed, hospital, _document(levels)).status_code == 201
    response = _subgroups(fed, "v1")
    assert response.status_code == 200
    body = response.json()
    assert (body["metrics"], body["min_sites"], body["declared"][0]["name"]) == (
        ["auroc"],
        3,
        "age_band",
    )
    (model,) = body["models"]
    assert (model["model"], model["n_sites"], model["withheld"]) == ("model-v1", 3, None)
    (age,) = model["variables"]
    levels = {level["level"]: level for level in age["levels"]}
    assert list(levels) == ["<50", "50-69", "70+"]
    # The same value at every site pools to that value (no heterogeneity).
    assert (levels["<50"]["n_sites"], levels["<50"]["n_cases"]) == (3, 1200)
    assert abs(levels["<50"]["pooled"]["auroc"]["value"] - 0.7) < 1e-9
    assert (levels["50-69"]["n_sites"], levels["50-69"]["n_cases"]) == (3, 1500)
    assert abs(levels["50-69"]["pooled"]["auroc"]["value"] - 0.8) < 1e-9
    assert (levels["70+"]["n_sites"], levels["70+"]["n_cases"], levels["70+"]["pooled"]) == (
        1,
        None,
        {},
    )
    assert levels["70+"]["withheld"] == (
        "reported by 1 site(s), fewer than the 3 this benchmark releases pooled figures from"
    )
    (gap,) = age["gaps"]
    assert (gap["metric"], gap["largest"], gap["smallest"]) == ("auroc", "50-69", "<50")
    assert abs(gap["difference"] - 0.1) < 1e-9
    assert gap["lower"] < 0.1 < gap["upper"]
    # The benchmark owner sees every level, as on the leaderboard.
    owner = _subgroups(fed, "bench").json()["models"][0]["variables"][0]
    seventy = next(level for level in owner["levels"] if level["level"] == "70+")
    assert (seventy["n_cases"], seventy["withheld"]) == (300, None)
    assert abs(seventy["pooled"]["auroc"]["value"] - 0.9) < 1e-9
    assert owner["gaps"][0]["largest"] == "70+"


def test_a_model_from_fewer_sites_than_min_sites_is_withheld(api: Api) -> None:
    fed = _federation(api, sites=2)
    for hospital in ("h1", "h2"):
        levels = {"<50": _level(400, 120, 0.7), "50-69": _level(600, 180, 0.8)}
        assert _upload(api, fed, hospital, _document(levels)).status_code == 201
    (model,) = _subgroups(fed, "h1").json()["models"]
    assert (model["variables"], model["withheld"]) == (
        [],
        "results from 2 site(s), fewer than the 3 this benchmark releases pooled figures from",
    )
    anonymous = api.client.get(f"{PREFIX}/benchmarks/{fed['benchmark']['id']}/subgroups")
    assert anonymous.status_code == 401
