"""A kept leaderboard (services.kept_boards): never older than the database, in any server
process, and released to each caller exactly as a board pooled afresh is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from medval.core.api import PREFIX
from medval.server.app import create_app
from medval.server.settings import ServerSettings

from .conftest import Api, Clock, User
from .test_api_release import CALLERS, _upload, public  # noqa: F401
from .test_api_results import _failed


@contextmanager
def another_server(settings: ServerSettings, clock: Clock) -> Iterator[TestClient]:
    """One more server process's app on the same database (as ``--workers 2`` runs),
    with boards of its own to keep."""
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


def _board(client: httpx.Client, caller: User | None, benchmark: Any, sites: bool = False) -> Any:
    path = f"{PREFIX}/benchmarks/{benchmark['id']}/leaderboard"
    headers = caller.headers if caller else {}
    response = client.get(path, headers=headers, params={"sites": "true"} if sites else {})
    assert response.status_code == 200, response.text
    return response.json()


def _vendors(board: dict[str, Any], model: str = "model-v") -> dict[str, Any]:
    (entry,) = [e for e in board["entries"] if e["model"] == model]
    return entry


def test_an_upload_shows_on_the_next_view(api: Api, public: dict[str, Any]) -> None:  # noqa: F811
    vendor, bench, benchmark = public["vendor"], public["bench"], public["benchmark"]
    _upload(api, public, "h1", 0.71)
    _upload(api, public, "h2", 0.74)
    for _ in range(2):  # the second view is of the kept board
        assert _vendors(_board(api.client, vendor, benchmark))["withheld"] is not None
        assert _vendors(_board(api.client, bench, benchmark))["pooled"]["auroc"]["n_sites"] == 2
    _upload(api, public, "h3", 0.90)
    seen = _vendors(_board(api.client, vendor, benchmark))
    assert (seen["withheld"], seen["n_sites"], seen["pooled"]["auroc"]["n_sites"]) == (None, 3, 3)
    assert _vendors(_board(api.client, bench, benchmark))["pooled"] == seen["pooled"]


def test_a_replaced_result_and_an_invalidated_model_show_on_the_next_view(
    api: Api,
    public: dict[str, Any],  # noqa: F811
) -> None:
    benchmark, model, bench = public["benchmark"], public["model"], public["bench"]
    for hospital in ("h1", "h2"):
        _upload(api, public, hospital, 0.8)
    failed = _failed(api.result_body(benchmark, public["datasets"]["h3"], model))
    public["h3"].ok("post", "/results", failed)
    entry = _vendors(_board(api.client, bench, benchmark))
    assert (entry["n_sites"], entry["n_failed"], entry["model_invalidated_at"]) == (2, 1, None)
    _upload(api, public, "h3", 0.85)  # run again after the failure: replaces it
    entry = _vendors(_board(api.client, bench, benchmark))
    assert (entry["n_sites"], entry["n_failed"]) == (3, 0)
    invalidated = public["vendor"].http.client.post(
        f"{PREFIX}/cubes/{model['id']}/invalidation", headers=public["vendor"].headers
    )
    assert invalidated.status_code == 200, invalidated.text
    entry = _vendors(_board(api.client, bench, benchmark))
    assert entry["model_invalidated_at"] == invalidated.json()["invalidated_at"]


def test_each_server_process_keeps_its_own_board_and_neither_is_stale(
    api: Api,
    public: dict[str, Any],  # noqa: F811
    settings: ServerSettings,
    clock: Clock,
) -> None:
    vendor, benchmark = public["vendor"], public["benchmark"]
    for hospital in ("h1", "h2", "h3"):
        _upload(api, public, hospital, 0.7)
    with another_server(settings, clock) as other:
        before = _vendors(_board(other, vendor, benchmark))["pooled"]["auroc"]
        assert _vendors(_board(api.client, vendor, benchmark))["pooled"]["auroc"] == before
        # A fourth site's upload, through the first process only.
        fourth = api.user("h4")
        dataset = api.dataset(fourth, benchmark)
        api.associate(fourth, benchmark, "dataset", dataset, public["bench"])
        body = api.result_body(benchmark, dataset, public["model"], auroc=0.95)
        fourth.ok("post", "/results", body)
        after = _vendors(_board(other, vendor, benchmark))["pooled"]["auroc"]
        assert after["n_sites"] == 4 and after["value"] > before["value"]
        assert _vendors(_board(api.client, vendor, benchmark))["pooled"]["auroc"] == after


@pytest.mark.parametrize("sites", [False, True])
def test_a_kept_board_releases_to_each_caller_what_a_fresh_one_does(
    api: Api,
    public: dict[str, Any],  # noqa: F811
    settings: ServerSettings,
    clock: Clock,
    sites: bool,
) -> None:
    """Below min_sites (two sites of three): the benchmark owner's view is made first,
    and kept; every other caller then gets from it exactly what a server process that
    never kept a board gives them (tests/server/test_api_release.py: what that is)."""
    second = api.cube(public["vendor"], "model", name="model-w")
    api.associate(public["vendor"], public["benchmark"], "model", second, public["bench"])
    for hospital, auroc in (("h1", 0.71), ("h2", 0.74)):
        _upload(api, public, hospital, auroc)
    for hospital in ("h1", "h2", "h3"):  # the second model from every site: released
        body = api.result_body(public["benchmark"], public["datasets"][hospital], second, 0.6)
        public[hospital].ok("post", "/results", body)
    kept = {who: _board(api.client, public[who], public["benchmark"], sites) for who in CALLERS}
    owner = _vendors(kept["bench"])
    assert owner["withheld"] is None and len(owner["sites"]) == (2 if sites else 0)
    assert _vendors(kept["vendor"])["withheld"] is not None
    for who in CALLERS:
        with another_server(settings, clock) as fresh:
            assert kept[who] == _board(fresh, public[who], public["benchmark"], sites), who
        assert kept[who]["with_sites"] is sites
        # Ranked on what each sees: model-v's withheld figure ranks only for the owner.
        first = "model-v" if who == "bench" else "model-w"
        assert kept[who]["entries"][0]["model"] == first, who


def test_sites_come_only_when_asked_for(api: Api, public: dict[str, Any]) -> None:  # noqa: F811
    for hospital in ("h1", "h2", "h3"):
        _upload(api, public, hospital, 0.7)
    bench, benchmark = public["bench"], public["benchmark"]
    board = _board(api.client, bench, benchmark)
    assert board["with_sites"] is False and _vendors(board)["sites"] == []
    board = _board(api.client, bench, benchmark, sites=True)
    assert board["with_sites"] is True
    assert sorted(s["dataset"] for s in _vendors(board)["sites"]) == sorted(
        public["names"].values()
    )
