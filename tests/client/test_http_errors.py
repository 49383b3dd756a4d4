"""The client turns every server answer into a typed result or a typed, one-line error."""

from __future__ import annotations

import httpx
import pytest

from medval.client.http import MedvalClient
from medval.core.errors import Conflict, HashMismatch, NotFound, ServerUnavailable
from medval.demo.embedded_server import free_port


def client_answering(
    status: int, body: bytes, seen: list[httpx.Request] | None = None
) -> MedvalClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return MedvalClient("http://medval.test", "tok", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("not_found", 404, NotFound),
        ("conflict", 409, Conflict),
        ("hash_mismatch", 422, HashMismatch),
    ],
)
def test_error_bodies_become_the_same_typed_exception(code: str, status: int, error: type) -> None:
    body = f'{{"error": {{"code": "{code}", "message": "benchmark 9 does not exist"}}}}'.encode()
    with pytest.raises(error, match="benchmark 9 does not exist"):
        client_answering(status, body).benchmark(9)


def test_a_non_medval_answer_is_named_as_such() -> None:
    with pytest.raises(ServerUnavailable, match="without a medval error body"):
        client_answering(502, b"<html>bad gateway</html>").benchmark(1)


def test_an_answer_of_the_wrong_shape_is_named_as_such() -> None:
    with pytest.raises(ServerUnavailable, match="does not understand"):
        client_answering(200, b'{"id": "not a benchmark"}').benchmark(1)


def test_a_server_that_is_not_there() -> None:
    client = MedvalClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ServerUnavailable, match="cannot reach the medval server"):
        client.health()


def test_requests_carry_the_token_and_the_api_prefix() -> None:
    seen: list[httpx.Request] = []
    body = b'{"id": 1, "username": "a", "is_admin": false, "created_at": "2026-01-01T00:00:00Z"}'
    client_answering(200, body, seen).me()
    assert seen[0].url.path == "/api/v1/users/me"
    assert seen[0].headers["Authorization"] == "Bearer tok"


def test_none_filters_are_not_sent() -> None:
    seen: list[httpx.Request] = []
    client_answering(200, b"[]", seen).results(benchmark_id=3)
    assert dict(seen[0].url.params) == {"benchmark_id": "3"}
