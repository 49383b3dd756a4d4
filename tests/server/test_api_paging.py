"""Every list route pages: walked over HTTP with a small limit by following its ``Link``
headers, its pages join to the whole list (none twice, none lost, in the same order), each
page but the last is full, and the last has no ``Link``; also for callers who see only
some of the rows. A bad limit or cursor is a 422 with one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from medval.core.api import PREFIX
from medval.core.paging import MAX_LIMIT
from medval.server.app import create_app
from medval.server.paging import pager
from medval.server.settings import ServerSettings

from .conftest import Api, Clock, User, migrated_settings
from .paging_world import paging_world

Walk = tuple[str, str, str, dict[str, Any]]  # what, path, caller, query

# Each list route, walked as callers who see all of it and as callers who see some of it.
WALKS: list[Walk] = [
    ("users", "/users", "root", {}),
    ("signing keys", "/users/me/signing-keys", "vendor", {}),
    ("encryption keys", "/users/me/encryption-keys", "vendor", {}),
    ("cubes", "/cubes", "bench", {}),
    ("cubes, not others' drafts", "/cubes", "x", {"kind": "model"}),
    ("cubes, own drafts too", "/cubes", "vendor", {"mine": "true"}),
    ("benchmarks", "/benchmarks", "bench", {}),
    ("benchmarks, approved only", "/benchmarks", "x", {}),
    ("benchmarks, anonymous", "/benchmarks", "", {}),
    ("acceptances", "/benchmarks/{benchmark_id}/agreement/acceptances", "bench", {}),
    ("expected sites", "/benchmarks/{benchmark_id}/expected-sites", "bench", {}),
    ("expected sites, an admin's", "/benchmarks/{benchmark_id}/expected-sites", "root", {}),
    ("preparation reports", "/benchmarks/{benchmark_id}/preparation-reports", "bench", {}),
    ("data policies", "/benchmarks/{benchmark_id}/data-policies", "bench", {}),
    ("data policies, own only", "/benchmarks/{benchmark_id}/data-policies", "h1", {}),
    ("data policies, a model owner's", "/benchmarks/{benchmark_id}/data-policies", "vendor", {}),
    ("datasets", "/datasets", "root", {}),
    ("datasets, own only", "/datasets", "h1", {}),
    ("datasets, those that asked to join one's benchmark", "/datasets", "bench", {}),
    ("associations", "/associations", "bench", {"benchmark_id": "{benchmark_id}"}),
    ("associations, own only", "/associations", "h1", {}),
    ("associations of a kind", "/associations", "bench", {"kind": "model"}),
    ("results", "/results", "bench", {}),
    ("results, own only", "/results", "h1", {}),
    ("results, released to a model owner", "/results", "vendor", {"model_id": "{model}"}),
    ("audit", "/audit", "root", {"entity_kind": "dataset"}),
    ("audit, what one may see", "/audit", "h1", {}),
    ("audit, some entities", "/audit", "root", {"entity_kind": "result", "entity_id": "{ids}"}),
    ("aggregators", "/aggregators", "x", {}),
    ("trainings", "/trainings", "trainer", {}),
    ("training nodes", "/trainings/{experiment_id}/nodes", "trainer", {}),
    ("training rounds", "/trainings/{experiment_id}/rounds", "h1", {}),
    ("site rounds", "/trainings/{experiment_id}/site-rounds", "trainer", {}),
    ("site rounds, own only", "/trainings/{experiment_id}/site-rounds", "h1", {}),
    ("training associations", "/training-associations", "trainer", {}),
    ("training associations, own only", "/training-associations", "h2", {}),
    ("pending executions", "/executions/pending", "h1", {}),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One world for the module (it takes a while to make), on its own app."""
    settings = migrated_settings(tmp_path_factory.mktemp("paging"))
    with TestClient(create_app(settings, clock=Clock())) as client:
        world = paging_world(Api(client, settings))
        experiment = world["trainer"].ok("get", f"/trainings?limit={MAX_LIMIT}")[0]
        world["values"] = {
            "benchmark_id": world["board"]["id"],
            "model": world["models"][0]["id"],
            "experiment_id": experiment["id"],
            "ids": [str(r["id"]) for r in world["results"]["h1"] + world["results"]["h2"][:3]],
        }
        yield world


def _filled(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return values[template[1:-1]]
    return template.format(**values) if isinstance(template, str) else template


def _get(world: dict[str, Any], caller: str, url: str, **params: Any) -> httpx.Response:
    user: User = world["root"] if caller == "" else world[caller]
    headers = user.headers if caller else {}
    return user.http.client.get(url, headers=headers, params=params or None)


def _walk(world: dict[str, Any], walk: Walk, limit: int) -> tuple[list[Any], list[list[Any]]]:
    """The whole list (one page of the largest size), and its pages of ``limit`` walked by
    following each ``Link: <...>; rel="next"``."""
    _, path, caller, query = walk
    values = world["values"]
    url = PREFIX + _filled(path, values)
    params = {name: _filled(value, values) for name, value in query.items()}
    whole = _get(world, caller, url, **params, limit=MAX_LIMIT)
    assert whole.status_code == 200, whole.text
    assert "link" not in whole.headers
    pages = []
    response = _get(world, caller, url, **params, limit=limit)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "link" not in response.headers:
            return whole.json(), pages
        assert response.links["next"]["url"].startswith(url + "?")
        response = _get(world, caller, response.links["next"]["url"])


def test_every_list_route_is_walked() -> None:
    app = create_app(ServerSettings(database_url="sqlite://"))
    paged = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and any(
            d.call is pager for d in route.dependant.dependencies
        ):
            assert context.path is not None
            paged.add(context.path.removeprefix(PREFIX))
    assert paged == {path for _, path, _, _ in WALKS}
    assert len(paged) == 20


@pytest.mark.parametrize("walk", WALKS, ids=[w[0] for w in WALKS])
@pytest.mark.parametrize("limit", [1, 2])
def test_the_pages_join_to_the_whole_list(world: dict[str, Any], walk: Walk, limit: int) -> None:
    whole, pages = _walk(world, walk, limit)
    assert len(pages) >= 3, f"{len(whole)} items make too few pages to test"
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    joined = [item for page in pages for item in page]
    assert joined == whole
    assert len({json.dumps(item, sort_keys=True) for item in joined}) == len(joined)
    again, _ = _walk(world, walk, limit)
    assert again == whole  # the order is stable


def test_a_caller_who_sees_some_rows_gets_each_of_them_once(world: dict[str, Any]) -> None:
    """Checked against what was made, not against the unpaged list."""
    _, pages = _walk(world, ("", "/datasets", "h1", {}), 1)
    owned = world["datasets"]["h1"] + world["training_datasets"]["h1"]
    assert [page[0]["id"] for page in pages] == [d["id"] for d in owned]
    _, pages = _walk(world, ("", "/datasets", "bench", {}), 2)
    joined = sorted(d["id"] for d in world["datasets"]["h1"] + world["datasets"]["h2"])
    assert [d["id"] for page in pages for d in page] == joined
    _, pages = _walk(world, ("", "/results", "h1", {}), 2)
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in world["results"]["h1"]]


def test_a_page_without_a_limit_holds_the_servers_page_limit(tmp_path: Path) -> None:
    settings = migrated_settings(tmp_path).model_copy(update={"page_limit": 2})
    with TestClient(create_app(settings, clock=Clock())) as client:
        api = Api(client, settings)
        root = api.admin("root")
        for name in ("a", "b", "c"):
            api.user(name)
        first = client.get(f"{PREFIX}/users", headers=root.headers)
        assert [u["username"] for u in first.json()] == ["root", "a"]
        link = first.headers["link"]
        assert link == f'<{PREFIX}/users?after={first.json()[1]["id"]}>; rel="next"'
        last = client.get(first.links["next"]["url"], headers=root.headers)
        assert [u["username"] for u in last.json()] == ["b", "c"]
        assert "link" not in last.headers


BAD = [
    ("/cubes", {"limit": "0"}, "query.limit: Input should be greater than or equal to 1"),
    ("/cubes", {"limit": "1001"}, "query.limit: Input should be less than or equal to 1000"),
    (
        "/cubes",
        {"limit": "ten"},
        "query.limit: Input should be a valid integer, unable to parse string as an integer",
    ),
    ("/cubes", {"after": "abc"}, "query.after: 'abc' is not a cursor of this list; {take}"),
    ("/cubes", {"after": "-1"}, "query.after: '-1' is not a cursor of this list; {take}"),
    ("/cubes", {"after": "1.2"}, "query.after: '1.2' is not a cursor of this list; {take}"),
    (
        "/datasets",
        {"after": "2147483648"},
        "query.after: '2147483648' is not a cursor of this list; {take}",
    ),
    (
        "/trainings/{experiment_id}/site-rounds",
        {"after": "3"},
        "query.after: '3' is not a cursor of this list; {take}",
    ),
]


@pytest.mark.parametrize(("path", "query", "message"), BAD)
def test_a_bad_limit_or_cursor_is_refused_in_one_line(
    world: dict[str, Any], path: str, query: dict[str, str], message: str
) -> None:
    url = PREFIX + _filled(path, world["values"])
    response = _get(world, "trainer", url, **query)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": message.format(take="take it from the Link header of the page before"),
    }


def test_a_cursor_past_the_end_is_an_empty_last_page(world: dict[str, Any]) -> None:
    response = _get(world, "root", f"{PREFIX}/users", after="2147483647")
    assert (response.status_code, response.json()) == (200, [])
    assert "link" not in response.headers
