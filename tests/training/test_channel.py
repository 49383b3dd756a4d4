"""The site's channel: Flower's Runtime API carried call by call (HTTP/1.1), only the calls
a ClientApp makes, their bodies shown to a reader; anything else refused here."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from medval.training.channel import Channel


class SuperNode(ThreadingHTTPServer):
    """Stands for the SuperNode's Runtime API: answers ``seen:<body>``, keeps what it saw."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SuperNode

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.seen.append(("POST", self.path, body))
        answer = b"seen:" + (body * (1 << 20) if body == b"big" else body)
        self.send_response(200)
        self.send_header("content-type", "application/protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        self.server.seen.append(("GET", self.path, b""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Reader:
    def __init__(self) -> None:
        self.read: list[tuple[str, str, bytes]] = []

    def wants(self, target: str) -> bool:
        return target == "/v1/runtime/push-object"

    def read_request(self, target: str, body: bytes) -> None:
        self.read.append(("request", target, body))

    def read_answer(self, target: str, body: bytes) -> None:
        self.read.append(("answer", target, body))


@pytest.fixture
def supernode() -> Iterator[SuperNode]:
    server = SuperNode()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _call(connection: socket.socket, method: str, target: str, body: bytes) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
    connection.sendall(head.encode() + body)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(4096)
    head_bytes, _, rest = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head_bytes.lower().split(b"\r\n")
         if line.startswith(b"content-length:")),
        0,
    )  # fmt: skip
    while len(rest) < length:
        rest += connection.recv(4096)
    return head_bytes.split(b"\r\n")[0] + b" | " + rest


def test_a_clientapp_s_calls_pass_one_by_one_and_the_reader_sees_what_it_wants(
    supernode: SuperNode, tmp_path: Path
) -> None:
    reader, refused = Reader(), []
    with (
        Channel(
            tmp_path / "runtime.sock", "127.0.0.1", supernode.server_port, reader, refused.append
        ),
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as app,
    ):
        app.connect(str(tmp_path / "runtime.sock"))
        assert (
            _call(app, "POST", "/v1/runtime/pull-task-input", b"a") == b"HTTP/1.1 200 OK | seen:a"
        )
        assert _call(app, "POST", "/v1/runtime/push-object", b"bc") == b"HTTP/1.1 200 OK | seen:bc"
    assert supernode.seen == [
        ("POST", "/v1/runtime/pull-task-input", b"a"),
        ("POST", "/v1/runtime/push-object", b"bc"),
    ]
    assert reader.read == [
        ("request", "/v1/runtime/push-object", b"bc"),
        ("answer", "/v1/runtime/push-object", b"seen:bc"),
    ]
    assert refused == []


@pytest.mark.parametrize(
    ("method", "target"),
    [("POST", "/v1/runtime/create-task"), ("GET", "/v1/runtime/pull-object"), ("POST", "/health")],
)
def test_any_other_call_is_refused_here_and_never_reaches_the_supernode(
    supernode: SuperNode, tmp_path: Path, method: str, target: str
) -> None:
    refused: list[str] = []
    with (
        Channel(
            tmp_path / "runtime.sock", "127.0.0.1", supernode.server_port, None, refused.append
        ),
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as app,
    ):
        app.connect(str(tmp_path / "runtime.sock"))
        answer = _call(app, method, target, b"x")
        assert answer == b"HTTP/1.1 403 Forbidden | medval: a ClientApp may not make this call\n"
        assert app.recv(1) == b""  # And the connection is closed.
    assert refused == [target]
    assert supernode.seen == []


def test_a_refused_call_whose_body_comes_late_still_reads_its_403(
    supernode: SuperNode, tmp_path: Path
) -> None:
    """As Flower's client sends it: the head, then the body. The channel answers only once
    it has read the whole request, so closing after the answer loses nothing (a socket
    closed on unread bytes is reset, and the app would see no answer at all)."""
    with (
        Channel(tmp_path / "runtime.sock", "127.0.0.1", supernode.server_port),
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as app,
    ):
        app.connect(str(tmp_path / "runtime.sock"))
        body = b"x" * 200_000
        target = "/v1/runtime/create-task"
        head = f"POST {target} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
        app.sendall(head.encode())
        time.sleep(0.3)
        app.sendall(body)
        answer = b""
        while chunk := app.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert answer.endswith(b"medval: a ClientApp may not make this call\n")
    assert supernode.seen == []


def test_an_answer_too_large_to_read_passes_whole_and_unread(
    supernode: SuperNode, tmp_path: Path
) -> None:
    reader = Reader()
    with (
        Channel(tmp_path / "runtime.sock", "127.0.0.1", supernode.server_port, reader),
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as app,
    ):
        app.connect(str(tmp_path / "runtime.sock"))
        answer = _call(app, "POST", "/v1/runtime/push-object", b"big")
        assert answer == b"HTTP/1.1 200 OK | seen:" + b"big" * (1 << 20)
        assert _call(app, "POST", "/v1/runtime/push-object", b"x") == b"HTTP/1.1 200 OK | seen:x"
    assert reader.read == [
        ("request", "/v1/runtime/push-object", b"big"),
        ("request", "/v1/runtime/push-object", b"x"),
        ("answer", "/v1/runtime/push-object", b"seen:x"),
    ]
