"""Bodies are authorised before they are read, and read only up to the server's cap.

The in-process client (TestClient) reads a request's whole body before the app sees it,
so what the server reads is proven on a real server with a raw socket: it answers while
most of the body has not even been sent.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import LiveServer
from tests.migrated import migrate

from medval.core.api import PREFIX
from medval.server.settings import ServerSettings

from .conftest import Api

CAP = 1024


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        password_hash_profile="test_only_cheapest",
        max_json_bytes=CAP,
        max_blob_bytes=4 * CAP,
    )
    migrate(settings)
    return settings


def _error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


TOO_LARGE = (413, "too_large", "the request body is larger than the server's limit of 1024 bytes")


def _cube_body(padding: int, archive: str = "0" * 64) -> bytes:
    body = {"name": "c", "kind": "model", "archive_hash": archive, "stage": "operation"}
    raw = json.dumps(body).encode()
    return raw[:-1] + b" " * max(0, padding - len(raw)) + b"}"


def test_an_anonymous_body_is_refused_401(client: TestClient) -> None:
    response = client.post(PREFIX + "/cubes", content=b"[" + b"0," * 5000 + b"0]")
    assert _error(response) == (
        401,
        "not_authenticated",
        "not logged in: send 'Authorization: Bearer <token>'",
    )
    bad_token = client.post(
        PREFIX + "/datasets", headers={"Authorization": "Bearer nope"}, content=b"{}"
    )
    assert _error(bad_token) == (401, "not_authenticated", "unknown or revoked token; log in again")


def test_a_body_over_the_cap_is_413_with_or_without_a_length(api: Api) -> None:
    alice = api.user("alice")
    sized = api.client.post(PREFIX + "/cubes", headers=alice.headers, content=_cube_body(CAP + 1))
    assert _error(sized) == TOO_LARGE

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield from (_cube_body(CAP + 1)[i : i + 100] for i in range(0, CAP + 1, 100))

    chunked = api.client.post(PREFIX + "/cubes", headers=alice.headers, content=chunks())
    assert _error(chunked) == TOO_LARGE


def test_a_body_at_the_cap_is_read(api: Api) -> None:
    alice = api.user("alice")
    body = _cube_body(CAP, api.blob(alice))
    assert len(body) == CAP
    response = api.client.post(
        PREFIX + "/cubes",
        headers=alice.headers | {"content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 201, response.text


def test_blobs_stream_under_their_own_cap(api: Api) -> None:
    alice = api.user("alice")
    blob = b"x" * (2 * CAP)  # above the JSON cap, within the blob cap
    assert api.blob(alice, blob)


def test_logging_in_is_open_but_capped(client: TestClient) -> None:
    response = client.post(PREFIX + "/auth/token", content=b"{" + b" " * CAP + b"}")
    assert _error(response) == TOO_LARGE


def test_unknown_routes_stay_404_and_405(client: TestClient) -> None:
    assert client.post(PREFIX + "/nothing-here", content=b"{}").status_code == 404
    assert client.patch(PREFIX + "/health", content=b"{}").status_code == 405


# --- on a real server: what is read -----------------------------------------------------


def _raw(url: str, head: str, parts: Iterator[bytes]) -> tuple[int, str, int]:
    """Send ``head``, then ``parts`` until the server answers: its status, its error
    message, and how many bytes of ``parts`` were sent before it answered."""
    address = urlsplit(url)
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
        sock.sendall(head.encode())
        for part in parts:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(part)
            except OSError:  # the server answered and closed
                break
            sent += len(part)
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    header, _, body = received.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    return status, json.loads(body)["error"]["message"], sent


def _complete(received: bytes) -> bool:
    header, _, body = received.partition(b"\r\n\r\n")
    length = int(header.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return len(body) >= length


def _head(path: str, extra: str = "") -> str:
    return f"POST {PREFIX}{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"


def test_an_anonymous_200_mb_array_is_not_read(live_server: LiveServer) -> None:
    head = _head("/datasets", "Content-Length: 200000000\r\n\r\n")
    array = (b"0," * 32768 for _ in range(3200))  # 200 MiB if it were all sent
    status, message, sent = _raw(live_server.url, head, array)
    assert (status, message) == (401, "not logged in: send 'Authorization: Bearer <token>'")
    assert sent < 32 << 20  # what socket buffers hold, no more


def _token(live_server: LiveServer) -> str:
    live_server.make_admin("root", "root-password")
    login = httpx.post(
        live_server.url + PREFIX + "/auth/token",
        json={"username": "root", "password": "root-password"},
    )
    token: str = login.json()["token"]
    return token


def test_a_declared_length_over_the_cap_is_refused_unread(live_server: LiveServer) -> None:
    auth = f"Authorization: Bearer {_token(live_server)}\r\n"
    head = _head("/datasets", f"{auth}Content-Length: 200000000\r\n\r\n")
    status, message, _sent = _raw(live_server.url, head, iter([]))
    assert (status, message) == (
        413,
        "the request body is larger than the server's limit of 1 MiB",
    )


def test_a_chunked_body_is_cut_off_at_the_cap(live_server: LiveServer) -> None:
    auth = f"Authorization: Bearer {_token(live_server)}\r\n"
    head = _head("/datasets", f"{auth}Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"0," * 32768  # 64 KiB
    parts = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3200))  # 200 MiB if read
    status, message, sent = _raw(live_server.url, head, parts)
    assert (status, message) == (413, "the request body is larger than the server's limit of 1 MiB")
    assert sent < 32 << 20
