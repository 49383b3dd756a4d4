"""A client never sends a request on a connection the server may be closing.

The server closes a connection idle for ``SERVER_KEEP_ALIVE_SECONDS``; a request sent on
it at that moment is lost ("server disconnected without sending a response"). A site
that polled the server, then spent about that long stopping its Flower processes, lost
its last round's metrics that way. So a client reuses a connection only while it has
been idle for less than ``CLIENT_REUSE_SECONDS``, well under the server's time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from medval.client.federation_setup import RequestTally, counted_client
from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings
from medval.core import api
from medval.server.serve import _config
from medval.server.settings import ServerSettings
from tests.loopback_http import serving


class _Health(BaseHTTPRequestHandler):
    """Answers the health route and keeps every connection open for as long as the
    client wants it (it never closes one itself), counting the connections."""

    protocol_version = "HTTP/1.1"
    connections: list[int]

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def do_GET(self) -> None:  # the standard library's name
        body = json.dumps({"status": "ok", "version": "test"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[int]]]:
    connections: list[int] = []
    with serving(type("Handler", (_Health,), {"connections": connections})) as url:
        yield url, connections


def _clients(url: str, tmp_path: Path) -> list[MedvalClient]:
    settings = ClientSettings(home=tmp_path / "home", server=url)
    return [MedvalClient(url), counted_client(url, None, settings, RequestTally())]


def test_a_connection_idle_past_the_reuse_time_is_not_reused(
    server: tuple[str, list[int]], tmp_path: Path
) -> None:
    url, connections = server
    for client in _clients(url, tmp_path):  # the CLI's, and the simulation's counted one
        connections.clear()
        with client:
            client.health()
            time.sleep(0.2)
            client.health()
            assert len(connections) == 1  # a connection idle a moment is reused
            time.sleep(api.CLIENT_REUSE_SECONDS + 0.5)
            client.health()
            assert len(connections) == 2  # one idle past the reuse time is not


def test_the_server_keeps_idle_connections_well_past_the_clients_reuse_time(
    tmp_path: Path,
) -> None:
    config = _config(ServerSettings(data_dir=tmp_path), "warning")
    assert config.timeout_keep_alive == api.SERVER_KEEP_ALIVE_SECONDS
    assert api.CLIENT_REUSE_SECONDS <= api.SERVER_KEEP_ALIVE_SECONDS / 2
