"""Expected sites, the participation view and the results export over the API (issue 19),
on SQLite and on PostgreSQL: an institution's accounts are expected with it; the view
carries no patient data; the export holds released results only; a removed expectation
approves no more; the participation page shows the view to the committee alone."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from medval.core.api import PREFIX

from .both_stores import postgres_url, settings
from .conftest import Api, Clock, User

__all__ = ["postgres_url", "settings"]  # fixtures: every test on both stores

PLACE = "St. Mary's"


@pytest.fixture
def committee(api: Api) -> dict[str, Any]:
    """A benchmark releasing from two sites on; h1 and h2 in an expected institution, h3
    not; the vendor's model approved."""
    people: dict[str, Any] = {n: api.user(n) for n in ("bench", "h1", "h2", "h3", "vendor")}
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root, min_sites=2)
    model = api.cube(people["vendor"], "model")
    api.associate(people["vendor"], benchmark, "model", model, people["bench"])
    for name in ("h1", "h2"):
        root.ok("put", f"/users/{people[name].id}/institution", {"institution": PLACE})
    sites = f"/benchmarks/{benchmark['id']}/expected-sites"
    people["bench"].ok("post", sites, {"kind": "institution", "name": PLACE})
    return {"root": root, **people, "benchmark": benchmark, "model": model, "sites": sites}


def _join(api: Api, w: dict[str, Any], owner: str) -> tuple[Any, Any]:
    dataset = api.dataset(w[owner], w["benchmark"])
    body = {"benchmark_id": w["benchmark"]["id"], "kind": "dataset", "entity_id": dataset["id"]}
    return dataset, w[owner].ok("post", "/associations", body)


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_an_institutions_accounts_are_expected_and_only_while_it_is(
    api: Api, committee: dict[str, Any]
) -> None:
    w = committee
    assert _join(api, w, "h1")[1]["status"] == "approved"
    assert _join(api, w, "h3")[1]["status"] == "pending"
    # Taken out of the institution: no longer expected.
    w["root"].ok("put", f"/users/{w['h2'].id}/institution", {"institution": None})
    assert _join(api, w, "h2")[1]["status"] == "pending"
    # The committee stops expecting the institution: the next request waits for it.
    removed = w["bench"].ok("get", w["sites"])[0]
    gone = api.client.delete(
        PREFIX + w["sites"],
        params={"kind": "institution", "name": PLACE},
        headers=w["bench"].headers,
    )
    assert gone.status_code == 200 and gone.json() == removed
    assert w["bench"].ok("get", w["sites"]) == []
    w["root"].ok("put", f"/users/{w['h2'].id}/institution", {"institution": PLACE})
    assert _join(api, w, "h2")[1]["status"] == "pending"


def test_the_committees_own_dataset_is_never_approved_for_being_expected(
    api: Api, committee: dict[str, Any]
) -> None:
    w = committee
    w["bench"].ok("post", w["sites"], {"kind": "user", "name": "bench"})
    assert _join(api, w, "bench")[1]["status"] == "pending"  # four eyes


def test_bad_input_is_one_line_and_changes_nothing(api: Api, committee: dict[str, Any]) -> None:
    w = committee
    before = w["bench"].ok("get", w["sites"])
    bad = [
        (w["bench"].post(w["sites"], {"kind": "user", "name": "nobody"}), 404),
        (w["bench"].post(w["sites"], {"kind": "institution", "name": " padded"}), 422),
        (w["bench"].post(w["sites"], {"kind": "planet", "name": "h3"}), 422),
        (w["bench"].post(w["sites"], {"kind": "institution", "name": PLACE}), 409),
        (w["bench"].post("/benchmarks/999/expected-sites", {"kind": "user", "name": "h3"}), 404),
        (w["h1"].post(w["sites"], {"kind": "user", "name": "h3"}), 403),
        (w["root"].put("/users/999/institution", {"institution": PLACE}), 404),
        (w["root"].put(f"/users/{w['h3'].id}/institution", {"institution": "a\nb"}), 422),
    ]
    for response, status in bad:
        assert response.status_code == status, response.text
        assert "\n" not in response.json()["error"]["message"]
    assert _error(bad[0][0]) == (404, "no user named 'nobody'")
    name = w["benchmark"]["name"]
    assert _error(bad[3][0]) == (409, f'institution "{PLACE}" is already expected on {name}')
    assert _error(bad[5][0]) == (
        403,
        f"only the owner of benchmark {name} (or an admin) may do this",
    )
    assert w["bench"].ok("get", w["sites"]) == before
    assert w["root"].ok("get", "/users/me")["username"] == "root"
    assert [u["institution"] for u in w["root"].ok("get", "/users") if u["username"] == "h3"] == [
        None
    ]


def test_the_view_has_no_patient_data_and_the_export_only_released_results(
    api: Api, committee: dict[str, Any]
) -> None:
    w = committee
    d1, _ = _join(api, w, "h1")
    d2, _ = _join(api, w, "h2")
    w["h1"].ok("post", "/results", api.result_body(w["benchmark"], d1, w["model"], auroc=0.71))
    export = f"/benchmarks/{w['benchmark']['id']}/exports/results"
    # One site of the two it takes: nothing released, nothing exported.
    assert w["bench"].ok("get", export)["results"] == []
    w["h2"].ok("post", "/results", api.result_body(w["benchmark"], d2, w["model"], auroc=0.69))
    rows = w["root"].ok("get", export)["results"]
    assert [(r["site"], r["dataset"], r["model"], r["n_cases"]) for r in rows] == [
        ("h1", d1["name"], w["model"]["name"], 1000),
        ("h2", d2["name"], w["model"]["name"], 1000),
    ]
    assert [r["metrics"]["auroc"]["value"] for r in rows] == [0.71, 0.69]
    assert all("subgroups" not in r and "document" not in r for r in rows)

    view = w["bench"].ok("get", f"/benchmarks/{w['benchmark']['id']}/participation")
    [site] = view["sites"]
    assert (site["kind"], site["name"], site["accounts"]) == ("institution", PLACE, ["h1", "h2"])
    assert (site["results_sent"], site["models_run"]) == (2, [w["model"]["name"]])
    text = str(view)
    for secret in ("statistics", "n_cases", "auroc", "age", "60.0", d1["data_hash"]):
        assert secret not in text

    # The committee's page shows the same, to the committee alone.
    page = api.client.get(
        f"/benchmarks/{w['benchmark']['id']}/participation", headers=w["bench"].headers
    )
    assert page.status_code == 200
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert f"{PLACE} (institution)" in words.replace("&#39;", "'")
    assert '<th scope="col">Waiting for</th>' in page.text
    assert d1["name"] in words and "60.0" not in words
    refused = api.client.get(
        f"/benchmarks/{w['benchmark']['id']}/participation", headers=w["h1"].headers
    )
    assert refused.status_code == 403
    assert "may do this" in refused.text
    board = api.client.get(f"/benchmarks/{w['benchmark']['id']}", headers=w["bench"].headers)
    assert f'href="/benchmarks/{w["benchmark"]["id"]}/participation"' in board.text
    other = api.client.get(f"/benchmarks/{w['benchmark']['id']}", headers=w["h1"].headers)
    assert "/participation" not in other.text


def test_nothing_waits_to_run_on_an_invalidated_dataset_or_benchmark(
    api: Api, committee: dict[str, Any], clock: Clock
) -> None:
    w = committee
    path = f"/benchmarks/{w['benchmark']['id']}/participation"

    def waiting() -> tuple[str | None, str | None]:
        [site] = w["bench"].ok("get", path)["sites"]
        return site["waiting_for"], site["waiting_since"]

    assert waiting()[0] == "joining"
    d1, joined = _join(api, w, "h1")
    clock.advance(minutes=5)
    d2, second = _join(api, w, "h2")
    reference = w["bench"].ok("get", f"/cubes/{w['benchmark']['reference_model_id']}")
    models = {w["model"]["name"], reference["name"]}
    # Both datasets wait for both models; the oldest first (h1's, approved first).
    what, since = waiting()
    assert what is not None and what.endswith(f"to run on {d1['name']}")
    assert since == joined["decided_at"]
    w["h1"].ok("post", f"/datasets/{d1['id']}/invalidation", {})
    what, since = waiting()
    assert what is not None and what.endswith(f"to run on {d2['name']}")
    assert since == second["decided_at"]
    assert what.split(" ")[1] in models
    w["bench"].ok("post", f"/benchmarks/{w['benchmark']['id']}/invalidation", {})
    assert waiting() == (None, None)
