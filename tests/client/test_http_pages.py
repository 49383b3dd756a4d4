"""The client follows a list's pages (``client.pages``): each next page on the same
server and under its API, none twice; anything else is refused in one line."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from medval.client.http import MedvalClient
from medval.core.errors import ServerUnavailable

BASE = "http://medval.test/api/v1"


def _user(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "username": f"user-{n}",
        "is_admin": False,
        "disabled": False,
        "created_at": "2024-05-01T09:00:00Z",
    }


def client_with_pages(links: dict[str, str], seen: list[httpx.Request]) -> MedvalClient:
    """A server whose /users answers one user per page: ``after=N`` gives user N + 1, and
    each page's ``Link`` is ``links`` of its ``after`` (none: the last page)."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        after = request.url.params.get("after", "0")
        headers = {"Content-Type": "application/json"}
        if after in links:
            headers["Link"] = f'<{links[after]}>; rel="next"'
        body = json.dumps([_user(int(after) + 1)]).encode()
        return httpx.Response(200, content=body, headers=headers)

    return MedvalClient("http://medval.test", "tok", transport=httpx.MockTransport(answer))


def test_every_page_is_followed_with_the_query_and_the_token() -> None:
    seen: list[httpx.Request] = []
    links = {"0": "/api/v1/users?x=1&after=1", "1": f"{BASE}/users?x=1&after=2"}
    users = client_with_pages(links, seen).users()
    assert [u.username for u in users] == ["user-1", "user-2", "user-3"]
    assert [str(r.url) for r in seen] == [
        f"{BASE}/users",
        f"{BASE}/users?x=1&after=1",
        f"{BASE}/users?x=1&after=2",
    ]
    assert {r.headers["Authorization"] for r in seen} == {"Bearer tok"}


@pytest.mark.parametrize(
    "elsewhere",
    [
        "http://evil.test/api/v1/users?after=1",
        "https://medval.test/api/v1/users?after=1",
        "http://medval.test:8080/api/v1/users?after=1",
        "/elsewhere?after=1",
    ],
)
def test_a_next_page_on_another_server_or_outside_the_api_is_not_followed(
    elsewhere: str,
) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(ServerUnavailable) as refused:
        client_with_pages({"0": elsewhere}, seen).users()
    target = str(httpx.URL(BASE).join(elsewhere))
    assert str(refused.value) == (
        "the server at http://medval.test sent a next page on another server or outside "
        f"its API ({target}); not followed"
    )
    assert len(seen) == 1  # the token went nowhere else


def test_a_next_page_sent_twice_is_not_followed_again() -> None:
    seen: list[httpx.Request] = []
    loop = "/api/v1/users?after=1"
    with pytest.raises(ServerUnavailable) as refused:
        client_with_pages({"0": loop, "1": loop}, seen).users()
    assert str(refused.value) == (
        f"the server at http://medval.test sent the same next page twice ({BASE}/users?after=1)"
    )
    assert len(seen) == 2
