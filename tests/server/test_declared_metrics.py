"""Issue 13: a benchmark whose evaluator reports the Brier score (and no AUROC) declares
it primary, lower is better: the leaderboard ranks by it ascending and shows only it; an
upload is checked against the declaration."""

from __future__ import annotations

import re
from typing import Any

from medval.core.api import PREFIX

from .conftest import Api
from .test_api_leaderboard import _board, _federation

BRIER = [{"name": "brier", "label": "Brier score", "direction": "lower", "primary": True}]


def _brier(value: float) -> dict[str, Any]:
    return {
        "n_cases": 1000,
        "n_positive": 300,
        "metrics": {
            "brier": {"value": value, "lower": value - 0.02, "upper": value + 0.02},
        },
    }


BRIERS = {("h1", "v1"): 0.20, ("h2", "v1"): 0.22, ("h1", "v2"): 0.12, ("h2", "v2"): 0.14}


def test_a_brier_benchmark_ranks_by_brier_ascending(api: Api) -> None:
    documents = {key: _brier(value) for key, value in BRIERS.items()}
    fed = _federation(api, "public", documents, BRIER)
    board = _board(api, fed["bench"], fed["benchmark"]).json()
    assert board["metrics"] == ["brier"]
    assert (board["primary_metric"], board["higher_is_better"]) == ("brier", False)
    assert board["declared"] == [
        {"name": "brier", "label": "Brier score", "direction": "lower", "scale": "linear",
         "of": None, "primary": True}
    ]  # fmt: skip
    assert [e["model"] for e in board["entries"]] == ["model-v2", "model-v1"]
    assert [list(e["pooled"]) for e in board["entries"]] == [["brier"], ["brier"]]
    # Linear scale: two equal-width intervals pool to their mean.
    assert board["entries"][0]["pooled"]["brier"]["value"] == 0.13


def test_the_web_page_shows_the_declared_label_only(api: Api) -> None:
    documents = {key: _brier(value) for key, value in BRIERS.items()}
    fed = _federation(api, "public", documents, BRIER)
    html = api.client.get(f"/benchmarks/{fed['benchmark']['id']}").text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Ranked by Brier score (lower is better)" in text
    assert '<th scope="col">Brier score</th>' in html
    assert "Forest plot: Brier score" in text
    assert "auroc" not in text.lower()


def test_a_declared_count_pools_a_proportion_by_its_counts_whatever_its_name(api: Api) -> None:
    """``recall`` is no name medval knows; declared a proportion of the positives, it is
    pooled from the counts (binomial-normal), as sensitivity is."""
    recall = [
        {"name": "recall", "label": "Recall", "scale": "proportion", "of": "positives",
         "primary": True}
    ]  # fmt: skip

    def recalled(value: float) -> dict[str, Any]:
        interval = {"value": value, "lower": 0.7, "upper": 0.95}
        return {"n_cases": 1000, "n_positive": 300, "metrics": {"recall": interval}}

    documents = {
        (h, v): recalled(0.8 if h == "h1" else 0.9) for h in ("h1", "h2") for v in ("v1", "v2")
    }
    fed = _federation(api, "public", documents, recall)
    pooled = _board(api, fed["bench"], fed["benchmark"]).json()["entries"][0]["pooled"]
    assert pooled["recall"]["model"] == "binomial-normal"


def _world(api: Api) -> dict[str, Any]:
    documents = {key: _brier(value) for key, value in BRIERS.items()}
    fed = _federation(api, "public", documents, BRIER)
    fresh = api.cube(fed["v1"], "model", name="model-v3")
    benchmark = fed["benchmark"]
    api.associate(fed["v1"], benchmark, "model", fresh, fed["bench"])
    return {**fed, "fresh": fresh}


def _upload(api: Api, fed: dict[str, Any], document: dict[str, Any]) -> Any:
    body = api.result_body(fed["benchmark"], fed["datasets"]["h1"], fed["fresh"])
    body["document"] = document
    return fed["h1"].post("/results", body)


def _refusal(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_an_upload_must_carry_exactly_the_declared_metrics(api: Api) -> None:
    fed = _world(api)
    name = fed["benchmark"]["name"]
    auroc_only = {"metrics": {"auroc": {"value": 0.8}}}
    assert _refusal(_upload(api, fed, auroc_only)) == (
        422,
        "invalid_input",
        f"result for benchmark {name}: declared metric(s) not reported: brier",
    )
    extra = {"metrics": {"brier": {"value": 0.2}, "auroc": {"value": 0.8}}}
    assert _refusal(_upload(api, fed, extra)) == (
        422,
        "invalid_input",
        f"result for benchmark {name}: metric(s) the benchmark does not declare: auroc",
    )
    # Nothing stored for the refused uploads; a missing value (NaN) is allowed.
    path = f"{PREFIX}/results?model_id={fed['fresh']['id']}"
    assert api.client.get(path, headers=fed["h1"].headers).json() == []
    assert _upload(api, fed, {"metrics": {"brier": {"value": None}}}).status_code == 201


def test_an_upload_off_the_declared_scale_is_refused(api: Api) -> None:
    auroc = [{"name": "auroc", "label": "AUROC", "scale": "proportion", "primary": True}]
    fed = _federation(api, "public", None, auroc)
    fresh = api.cube(fed["v1"], "model", name="model-v3")
    api.associate(fed["v1"], fed["benchmark"], "model", fresh, fed["bench"])
    fed = {**fed, "fresh": fresh}
    assert _refusal(_upload(api, fed, {"metrics": {"auroc": {"value": 1.2}}})) == (
        422,
        "invalid_input",
        f"result for benchmark {fed['benchmark']['name']}: auroc is 1.2, outside its "
        "declared scale (a proportion, in [0, 1])",
    )
