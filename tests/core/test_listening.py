"""Each server medval runs listens before it announces its address: a client that connects
at once (a browser opened on the printed address, a test) is queued, not refused.

A test saw ``medval console`` refuse a connection on the address it had just printed: its
socket was bound, not yet listening, until uvicorn started. Each ``announce`` below connects
to the address it hears, then stops the server before it would run."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from medval.client.settings import ClientSettings
from medval.console.serve import serve_console
from medval.core.listening import listen
from medval.server.serve import run_server
from medval.server.settings import ServerSettings
from medval.training.fleet_gate import FleetGate


class _Heard(Exception):
    """Raised by an announce that has connected: the server is not needed further."""


def _connect_then_stop(address: str) -> None:
    parts = urlsplit(address)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5):
        pass
    raise _Heard(address)


def test_a_listening_socket_queues_a_client_before_anyone_accepts() -> None:
    sock = listen("127.0.0.1", 0)
    with sock:
        assert sock.proto == socket.IPPROTO_TCP
        host, port = sock.getsockname()[:2]
        with socket.create_connection((host, port), timeout=5):
            accepted, _ = sock.accept()
            accepted.close()


def test_a_port_in_use_is_an_os_error_and_leaves_no_socket_open() -> None:
    with listen("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="Address already in use"):
            listen("127.0.0.1", port)


def test_the_console_listens_before_it_prints_its_address(tmp_path: Path) -> None:
    with pytest.raises(_Heard, match=r"^http://127\.0\.0\.1:\d+/\?token="):
        serve_console(ClientSettings(home=tmp_path), 0, _connect_then_stop)


def test_the_server_listens_before_it_announces_its_url(tmp_path: Path) -> None:
    settings = ServerSettings(data_dir=tmp_path, host="127.0.0.1", port=0)
    with pytest.raises(_Heard, match=r"^http://127\.0\.0\.1:\d+$"):
        run_server(settings, announce=_connect_then_stop)


def test_the_training_gate_listens_once_it_has_taken_its_port(tmp_path: Path) -> None:
    # bind() reads neither file: the gate's TLS starts with the gate.
    gate = FleetGate("127.0.0.1", 0, tmp_path / "gate.pem", tmp_path / "gate.key").bind()
    try:
        with socket.create_connection(("127.0.0.1", gate.port), timeout=5):
            pass
    finally:
        gate.stop()
