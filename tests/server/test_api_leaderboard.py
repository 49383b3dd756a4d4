"""The leaderboard: pooled across sites, released per policy, per-site rows only if allowed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from medval.core.api import PREFIX

from .conftest import Api, User


def _board(api: Api, user: User | None, benchmark: Any, sites: bool = False) -> Any:
    """The board as ``user`` gets it; ``sites``: each model's sites too (``?sites=true``)."""
    path = f"{PREFIX}/benchmarks/{benchmark['id']}/leaderboard"
    params = {"sites": "true"} if sites else {}
    return api.client.get(path, headers=user.headers if user else {}, params=params)


def _federation(
    api: Api,
    policy: str,
    documents: dict[tuple[str, str], dict[str, Any]] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Two hospitals, two vendors' models, all four results uploaded (the given
    documents, or an auroc each); the benchmark releases from two sites on, and declares
    ``metrics`` (None: none, as a benchmark registered before declarations)."""
    people = {n: api.user(n) for n in ("bench", "h1", "h2", "v1", "v2", "stranger")}
    root = User("root", 1, api)
    declared = {"metrics": metrics} if metrics is not None else {}
    benchmark = api.benchmark(
        people["bench"], approve_by=root, policy=policy, min_sites=2, **declared
    )
    datasets = {}
    for hospital in ("h1", "h2"):
        datasets[hospital] = api.dataset(people[hospital], benchmark)
        api.associate(people[hospital], benchmark, "dataset", datasets[hospital], people["bench"])
    models = {}
    for vendor in ("v1", "v2"):
        models[vendor] = api.cube(people[vendor], "model", name=f"model-{vendor}")
        api.associate(people[vendor], benchmark, "model", models[vendor], people["bench"])
    aurocs = {("h1", "v1"): 0.70, ("h2", "v1"): 0.74, ("h1", "v2"): 0.85, ("h2", "v2"): 0.87}
    for (hospital, vendor), auroc in aurocs.items():
        body = api.result_body(benchmark, datasets[hospital], models[vendor], auroc=auroc)
        if documents is not None:
            body["document"] = documents[hospital, vendor]
        people[hospital].ok("post", "/results", body)
    return {"root": root, **people, "benchmark": benchmark, "datasets": datasets}


def test_entries_are_pooled_and_ranked_by_auroc(api: Api) -> None:
    fed = _federation(api, "public")
    board = _board(api, fed["bench"], fed["benchmark"], sites=True).json()
    assert board["primary_metric"] == "auroc" and board["release_policy"] == "public"
    assert [e["model"] for e in board["entries"]] == ["model-v2", "model-v1"]
    best = board["entries"][0]
    assert best["n_sites"] == 2 and best["n_cases"] == 2000 and best["model_owner"] == "v2"
    pooled = best["pooled"]["auroc"]
    assert 0.85 < pooled["value"] < 0.87 and pooled["lower"] < pooled["value"] < pooled["upper"]
    assert pooled["n_sites"] == 2
    assert len(best["sites"]) == 2  # the benchmark owner sees every site


def _segmentation(dice: float, hd95: float | None) -> dict[str, Any]:
    """A MedPerf-style result as medval maps it: no counts, its own metric names."""
    return {
        "metrics": {
            "dice_et": {"value": dice, "lower": dice - 0.04, "upper": dice + 0.04},
            "hd95_et": {"value": hd95},
        }
    }


SEGMENTATION = {
    ("h1", "v1"): _segmentation(0.80, 5.0),
    ("h2", "v1"): _segmentation(0.82, None),
    ("h1", "v2"): _segmentation(0.70, 9.0),
    ("h2", "v2"): _segmentation(0.72, 8.0),
}


def test_a_benchmark_with_its_own_metrics_is_pooled_and_ranked_by_its_first(api: Api) -> None:
    fed = _federation(api, "public", SEGMENTATION)
    board = _board(api, fed["bench"], fed["benchmark"], sites=True).json()
    assert board["metrics"] == ["dice_et", "hd95_et"]
    assert (board["primary_metric"], board["higher_is_better"]) == ("dice_et", True)
    assert [e["model"] for e in board["entries"]] == ["model-v1", "model-v2"]
    best = board["entries"][0]
    assert 0.80 < best["pooled"]["dice_et"]["value"] < 0.82
    # A missing value at one site: the other site's value is the pooled one, alone.
    assert best["pooled"]["hd95_et"] == {
        "value": 5.0, "lower": None, "upper": None, "n_sites": 1, "i_squared": None,
        "model": "single-site", "tau_squared_method": None, "interval_method": None,
        "prediction_lower": None, "prediction_upper": None,
    }  # fmt: skip
    assert best["n_cases"] is None and all(s["n_cases"] is None for s in best["sites"])
    h2 = next(s for s in best["sites"] if s["dataset"] == fed["datasets"]["h2"]["name"])
    assert h2["metrics"]["hd95_et"] == {"value": None, "lower": None, "upper": None}


def test_a_proportion_with_counts_is_pooled_from_them(api: Api) -> None:
    # Sensitivity 1.0 at both sites, 20 and 15 positives: pooled as counts (the
    # binomial-normal model, tests/stats/test_proportions.py), not as clipped logits.
    def perfect(n_positive: int) -> dict[str, Any]:
        lower = n_positive / (n_positive + 1.959963984540054**2)  # Wilson's for n of n
        return {
            "n_cases": 100,
            "n_positive": n_positive,
            "metrics": {"sensitivity": {"value": 1.0, "lower": lower, "upper": 1.0}},
        }

    documents = {
        (h, v): perfect(20 if h == "h1" else 15) for h in ("h1", "h2") for v in ("v1", "v2")
    }
    fed = _federation(api, "public", documents)
    pooled = _board(api, fed["bench"], fed["benchmark"]).json()["entries"][0]["pooled"]
    sensitivity = pooled["sensitivity"]
    assert (sensitivity["model"], sensitivity["interval_method"]) == (
        "binomial-normal",
        "profile-likelihood",
    )
    assert (sensitivity["value"], sensitivity["upper"], sensitivity["n_sites"]) == (1.0, 1.0, 2)
    assert sensitivity["lower"] == pytest.approx(0.8936, abs=5e-4)  # was 0.988


def test_a_lower_is_better_first_metric_ranks_the_smallest_first(api: Api) -> None:
    distances = {("h1", "v1"): 2.0, ("h2", "v1"): 1.8, ("h1", "v2"): 3.0, ("h2", "v2"): 2.8}
    documents = {
        key: {"metrics": {"hd95_et": {"value": d, "lower": d - 0.5, "upper": d + 0.5}}}
        for key, d in distances.items()
    }
    fed = _federation(api, "public", documents)
    board = _board(api, fed["bench"], fed["benchmark"]).json()
    assert (board["primary_metric"], board["higher_is_better"]) == ("hd95_et", False)
    assert [e["model"] for e in board["entries"]] == ["model-v1", "model-v2"]


def test_sites_are_shown_only_where_the_caller_may_see_the_result(api: Api) -> None:
    fed = _federation(api, "public")
    as_h1 = _board(api, fed["h1"], fed["benchmark"], sites=True).json()
    for entry in as_h1["entries"]:
        assert [s["dataset"] for s in entry["sites"]] == [fed["datasets"]["h1"]["name"]]
    board = _board(api, fed["v1"], fed["benchmark"], sites=True).json()
    as_v1 = {e["model"]: e for e in board["entries"]}
    assert len(as_v1["model-v1"]["sites"]) == 2 and as_v1["model-v2"]["sites"] == []
    anonymous = _board(api, None, fed["benchmark"], sites=True).json()
    assert all(e["sites"] == [] and e["pooled"] for e in anonymous["entries"])


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        ("private", {"bench", "root"}),
        ("participants", {"bench", "root", "h1", "h2", "v1", "v2"}),
        ("public", {"bench", "root", "h1", "h2", "v1", "v2", "stranger", None}),
    ],
)
def test_the_aggregate_follows_the_release_policy(
    api: Api, policy: str, allowed: set[str | None]
) -> None:
    fed = _federation(api, policy)
    for viewer in ("bench", "root", "h1", "h2", "v1", "v2", "stranger", None):
        response = _board(api, fed[viewer] if viewer else None, fed["benchmark"])
        if viewer in allowed:
            assert response.status_code == 200, (viewer, response.text)
        else:
            expected = 401 if viewer is None else 403
            assert response.status_code == expected, (viewer, response.text)


def test_a_pending_participant_is_not_a_participant(api: Api) -> None:
    bench, vendor = api.user("bench"), api.user("vendor")
    benchmark = api.benchmark(bench, approve_by=User("root", 1, api))
    api.associate(vendor, benchmark, "model", api.cube(vendor, "model"), decide_by=None)
    assert _board(api, vendor, benchmark).status_code == 403
    assert _board(api, bench, benchmark).json()["entries"] == []


def test_unknown_or_hidden_benchmarks(api: Api) -> None:
    alice = api.user("alice")
    assert _board(api, alice, {"id": 9999}).status_code == 404
    assert _board(api, None, {"id": 9999}).status_code == 401
    pending = api.benchmark(api.user("bench"))
    assert _board(api, alice, pending).status_code == 404


def test_models_that_cannot_be_told_apart_show_as_tied(api: Api) -> None:
    close = {
        ("h1", "v1"): _segmentation(0.80, 5.0),
        ("h2", "v1"): _segmentation(0.82, 6.0),
        ("h1", "v2"): _segmentation(0.79, 5.0),
        ("h2", "v2"): _segmentation(0.81, 6.0),
    }
    fed = _federation(api, "public", close)
    board = _board(api, fed["bench"], fed["benchmark"]).json()
    ranks = [
        (e["model"], e["rank"], e["tied"], e["rank_lower"], e["rank_upper"])
        for e in board["entries"]
    ]
    assert ranks == [("model-v1", 1, True, 1, 2), ("model-v2", 1, True, 1, 2)]


def test_the_terminal_shows_a_real_boards_new_site_interval_and_method(api: Api) -> None:
    """Issue 13, end to end: three sites pooled by the server, rendered by the CLI."""
    from rich.console import Console

    from medval.cli.leaderboard_view import print_leaderboard
    from medval.core.result_schemas import LeaderboardPublic

    from .test_api_shift import _federation as three_sites

    fed = three_sites(api, "public")
    board = LeaderboardPublic.model_validate(_board(api, fed["bench"], fed["benchmark"]).json())
    auroc = board.entries[0].pooled["auroc"]
    low, high = auroc.prediction_lower, auroc.prediction_upper
    assert low is not None and auroc.lower is not None and auroc.upper is not None
    assert high is not None and low < auroc.lower < auroc.upper < high
    screen = SimpleNamespace(out=Console(width=400, record=True), err=Console(record=True))
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    shown = screen.out.export_text()
    row = next(line for line in shown.splitlines() if "model-v1" in line)
    assert row.split("│")[-2].strip() == f"{low:.3f} to {high:.3f}"
    assert (
        "auroc: pooled from the counts each site's interval implies (binomial-normal), "
        "Hartung-Knapp-scaled profile-likelihood interval new site (95% PI)"
    ) in " ".join(shown.split())
