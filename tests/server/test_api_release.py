"""Minimum sites: no pooled figure and no site's result, below the benchmark's min_sites,
to anyone but the benchmark owner and that site's data owner (services.release)."""

from __future__ import annotations

from typing import Any

import pytest

from medval.core.api import PREFIX

from .conftest import Api, User

CALLERS = ("anonymous", "stranger", "root", "bench", "h1", "h2", "h3", "vendor")


def _view(api: Api, caller: User | None, benchmark: Any) -> tuple[bool, list[str], bool]:
    """What ``caller`` sees of the vendor's entry: a pooled figure, which sites' results,
    and whether it is marked withheld."""
    path = f"{PREFIX}/benchmarks/{benchmark['id']}/leaderboard"
    headers = caller.headers if caller else {}
    response = api.client.get(path, headers=headers, params={"sites": "true"})
    assert response.status_code == 200, response.text
    [entry] = [e for e in response.json()["entries"] if e["model_owner"] == "vendor"]
    if entry["withheld"] is not None:
        assert entry["n_cases"] is None
        assert "fewer than the 3 this benchmark releases pooled figures from" in entry["withheld"]
    sites = sorted(site["dataset"] for site in entry["sites"])
    return bool(entry["pooled"]), sites, entry["withheld"] is not None


@pytest.fixture
def public(api: Api) -> dict[str, Any]:
    """A public benchmark (min_sites 3 by default), three hospitals, one vendor's model."""
    people: dict[str, Any] = {n: api.user(n) for n in ("bench", "h1", "h2", "h3", "vendor")}
    people["stranger"] = api.user("stranger")
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root, policy="public")
    assert (benchmark["min_sites"], benchmark["min_cell_count"]) == (3, 10)
    datasets = {}
    for hospital in ("h1", "h2", "h3"):
        datasets[hospital] = api.dataset(people[hospital], benchmark)
        api.associate(people[hospital], benchmark, "dataset", datasets[hospital], people["bench"])
    model = api.cube(people["vendor"], "model", name="model-v")
    api.associate(people["vendor"], benchmark, "model", model, people["bench"])
    names = {hospital: dataset["name"] for hospital, dataset in datasets.items()}
    return {
        **people,
        "root": root,
        "anonymous": None,
        "benchmark": benchmark,
        "datasets": datasets,
        "model": model,
        "names": names,
    }


def _upload(api: Api, world: dict[str, Any], hospital: str, auroc: float) -> Any:
    body = api.result_body(world["benchmark"], world["datasets"][hospital], world["model"], auroc)
    return world[hospital].ok("post", "/results", body)


def test_below_min_sites_only_the_benchmark_owner_and_the_site_see_a_result(
    api: Api, public: dict[str, Any]
) -> None:
    names = public["names"]
    every = sorted(names.values())
    first = _upload(api, public, "h1", 0.71)

    def views() -> dict[str, tuple[bool, list[str], bool]]:
        return {who: _view(api, public[who], public["benchmark"]) for who in CALLERS}

    # One site: the public leaderboard shows no figure of it to anyone else.
    assert views() == {
        "anonymous": (False, [], True),
        "stranger": (False, [], True),
        "root": (False, [], True),
        "bench": (True, [names["h1"]], False),
        "h1": (False, [names["h1"]], True),
        "h2": (False, [], True),
        "h3": (False, [], True),
        "vendor": (False, [], True),
    }
    for who in ("vendor", "root", "h2", "stranger"):
        assert public[who].get(f"/results/{first['id']}").status_code == 404, who
        assert public[who].ok("get", "/results") == [], who
    assert public["h1"].ok("get", f"/results/{first['id']}")["id"] == first["id"]
    assert public["bench"].ok("get", f"/results/{first['id']}")["id"] == first["id"]

    _upload(api, public, "h2", 0.74)
    assert views() == {
        "anonymous": (False, [], True),
        "stranger": (False, [], True),
        "root": (False, [], True),
        "bench": (True, sorted([names["h1"], names["h2"]]), False),
        "h1": (False, [names["h1"]], True),
        "h2": (False, [names["h2"]], True),
        "h3": (False, [], True),
        "vendor": (False, [], True),
    }

    _upload(api, public, "h3", 0.77)
    assert views() == {
        "anonymous": (True, [], False),
        "stranger": (True, [], False),
        "root": (True, every, False),
        "bench": (True, every, False),
        "h1": (True, [names["h1"]], False),
        "h2": (True, [names["h2"]], False),
        "h3": (True, [names["h3"]], False),
        "vendor": (True, every, False),
    }
    assert public["vendor"].ok("get", f"/results/{first['id']}")["id"] == first["id"]


def test_a_failed_execution_does_not_count_as_a_site(api: Api, public: dict[str, Any]) -> None:
    for hospital, auroc in (("h1", 0.71), ("h2", 0.74)):
        _upload(api, public, hospital, auroc)
    body = api.result_body(public["benchmark"], public["datasets"]["h3"], public["model"])
    body |= {"status": "failed", "document": None, "failure": "task 'infer' failed"}
    public["h3"].ok("post", "/results", body)
    assert _view(api, None, public["benchmark"]) == (False, [], True)
    # The failure itself (no figure of any patient) is the model owner's to see.
    seen = public["vendor"].ok("get", "/results")
    assert [r["status"] for r in seen] == ["failed"]


@pytest.mark.parametrize(("field", "value"), [("min_sites", 0), ("min_cell_count", 4)])
def test_a_benchmark_cannot_lower_its_thresholds_past_the_floor(
    api: Api, field: str, value: int
) -> None:
    owner = api.user("bench")
    cubes = [api.cube(owner, kind) for kind in ("data_preparator", "model", "evaluator")]
    body = {
        "name": "low",
        "data_preparator_id": cubes[0]["id"],
        "reference_model_id": cubes[1]["id"],
        "evaluator_id": cubes[2]["id"],
        "demo_data_hash": api.blob(owner),
        field: value,
    }
    response = owner.post("/benchmarks", body)
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


def test_a_withheld_model_shows_no_rank(api: Api, public: dict[str, Any]) -> None:
    _upload(api, public, "h1", 0.8)
    _upload(api, public, "h2", 0.8)
    path = f"{PREFIX}/benchmarks/{public['benchmark']['id']}/leaderboard"
    [entry] = api.client.get(path, headers=public["stranger"].headers).json()["entries"]
    assert entry["withheld"] is not None
    assert (entry["rank"], entry["rank_lower"], entry["rank_upper"], entry["tied"]) == (
        None,
        None,
        None,
        False,
    )
