"""The ClientApp's one channel out of its sandbox: a unix socket relayed to the SuperNode,
call by call.

The sandbox has no network. Its only way out is a unix socket that medval binds into it
(the channel folder); outside, this relay carries each connection made to that socket to
the SuperNode's Runtime API on the host's loopback, and nowhere else.

What is on that socket, in Flower 1.42: not gRPC. The ClientApp process
(``flwr.supernode.runtime.run_clientapp``) talks to the SuperNode with Flower's own
protobuf-over-HTTP client (``flwr.supercore.protobuf.client.ProtobufClient``: httpx, HTTP/1.1
only, keep-alive), and the SuperNode serves it with FastAPI on uvicorn: each call is a
``POST /v1/runtime/<call>`` whose body is one serialized protobuf request
(``application/protobuf``), answered by one protobuf response. So the relay reads HTTP/1.1
with ``h11`` and carries one call at a time:

- only the calls a ClientApp makes (:data:`CLIENTAPP_CALLS`) go through; any other (a
  ClientApp asking its SuperNode to start another task, to list nodes...) is answered
  ``403`` here, never reaches the SuperNode, and is told to ``on_refused``;
- the bodies a :class:`CallReader` wants are shown to it as they pass (the reply the app
  pushes: :mod:`medval.training.clientapp_reply`), unchanged.

What the FAB in the task's answer is, is checked inside, by the launcher
(:mod:`medval.training.clientapp_launcher`). Imports the standard library and ``h11``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol

import h11

_CHUNK = 1 << 16
# The calls Flower 1.42's ClientApp process makes (run_clientapp: its task, its message and
# the message's objects, its reply and the reply's objects, its outcome, its heartbeat).
CLIENTAPP_CALLS = frozenset(
    f"/v1/runtime/{call}"
    for call in (
        "pull-task-input",
        "pull-messages",
        "pull-object",
        "confirm-message-received",
        "push-messages",
        "push-object",
        "push-task-output",
        "send-task-heartbeat",
    )
)
# A body larger than this is relayed without being shown to the reader.
MAX_READ_BYTES = 1 << 20
_REFUSAL = b"medval: a ClientApp may not make this call\n"


class CallReader(Protocol):
    """Shown the bodies of the calls it wants, as they pass."""

    def wants(self, target: str) -> bool: ...
    def read_request(self, target: str, body: bytes) -> None: ...
    def read_answer(self, target: str, body: bytes) -> None: ...


class _NoReader:
    def wants(self, target: str) -> bool:
        return False

    def read_request(self, target: str, body: bytes) -> None:
        return None

    def read_answer(self, target: str, body: bytes) -> None:
        return None


class Channel:
    """Relays connections on the unix socket ``socket_path`` to ``host:port`` (TCP), one
    ClientApp call at a time (see the module docstring).

    The socket file is made connectable by the sandbox user (who may be another uid
    when medval runs as root): keep it in a folder no one else can reach.
    """

    def __init__(
        self,
        socket_path: Path,
        host: str,
        port: int,
        reader: CallReader | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.target = (host, port)
        self.reader: CallReader = reader or _NoReader()
        self.on_refused = on_refused or (lambda call: None)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._closed = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> Channel:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        # A unix socket's path may hold 107 bytes at most, a site's workdir can be deeper:
        # bound through its folder's descriptor, the path is short whatever the folder.
        folder = os.open(self.socket_path.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            self._listener.bind(f"/proc/self/fd/{folder}/{self.socket_path.name}")
        finally:
            os.close(folder)
        os.chmod(self.socket_path, 0o666)
        self._listener.listen(16)
        threading.Thread(target=self._accept, name="medval-channel", daemon=True).start()

    def close(self) -> None:
        """Stop accepting and cut every connection still open."""
        self._closed.set()
        with contextlib.suppress(OSError):  # accept() does not wake up on close() alone.
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                _shut(connection)
        self.socket_path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                inner, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(inner,), daemon=True).start()

    def _relay(self, inner: socket.socket) -> None:
        """One connection of the ClientApp, carried to the SuperNode call by call."""
        try:
            outer = socket.create_connection(self.target, timeout=10)
            outer.settimeout(None)
        except OSError:
            inner.close()
            return
        with self._lock:
            self._connections.update((inner, outer))
        down, up = h11.Connection(h11.SERVER), h11.Connection(h11.CLIENT)
        try:
            while not self._closed.is_set() and self._call(inner, outer, down, up):
                pass
        except (OSError, h11.ProtocolError):
            pass
        finally:
            _linger(inner)
            with self._lock:
                for connection in (inner, outer):
                    self._connections.discard(connection)
                    _shut(connection)
                    connection.close()

    def _call(
        self, inner: socket.socket, outer: socket.socket, down: h11.Connection, up: h11.Connection
    ) -> bool:
        """Carry one call and its answer; False when the connection is over."""
        event = _next_event(down, inner)
        if not isinstance(event, h11.Request):
            return False
        target = event.target.decode("ascii", errors="replace").partition("?")[0]
        if event.method != b"POST" or target not in CLIENTAPP_CALLS:
            # The refused request is read to its end first: a socket closed with bytes
            # it has not read is reset by the kernel, and the app would never read the 403.
            _drain(down, inner)
            self._refuse(inner, down, target)
            return False
        read = self.reader.wants(target)
        outer.sendall(up.send(event) or b"")
        body = _Body(read)
        while True:
            event = _next_event(down, inner)
            if isinstance(event, h11.Data):
                body.add(bytes(event.data))
                outer.sendall(up.send(h11.Data(data=bytes(event.data))) or b"")
            elif isinstance(event, h11.EndOfMessage):
                outer.sendall(up.send(event) or b"")
                break
            else:
                return False
        if body.whole is not None:
            self.reader.read_request(target, body.whole)
        # An answer the reader wants is held until it is whole and read, so that what the
        # app was answered is known before the app has it (then it passes unchanged).
        answer: _Body | None = None
        while True:
            event = _next_event(up, outer)
            if isinstance(event, h11.InformationalResponse):
                inner.sendall(down.send(event) or b"")
            elif isinstance(event, h11.Response):
                answer = _Body(read and event.status_code == 200)
                inner.sendall(down.send(event) or b"")
            elif isinstance(event, h11.Data):
                data = bytes(event.data)
                if answer is not None and answer.whole is not None:
                    answer.add(data)
                    if answer.whole is None:  # Too large to read: what was held goes on.
                        inner.sendall(down.send(h11.Data(data=answer.held)) or b"")
                else:
                    inner.sendall(down.send(h11.Data(data=data)) or b"")
            elif isinstance(event, h11.EndOfMessage):
                if answer is not None and answer.whole is not None:
                    self.reader.read_answer(target, answer.whole)
                    if answer.whole:
                        inner.sendall(down.send(h11.Data(data=answer.whole)) or b"")
                inner.sendall(down.send(event) or b"")
                break
            else:
                return False
        both = (down.our_state, down.their_state, up.our_state, up.their_state)
        if any(state is not h11.DONE for state in both):
            return False
        down.start_next_cycle()
        up.start_next_cycle()
        return True

    def _refuse(self, inner: socket.socket, down: h11.Connection, target: str) -> None:
        """Answer 403 here (the SuperNode never sees the call) and close the connection."""
        self.on_refused(target)
        head = h11.Response(
            status_code=403,
            reason=b"Forbidden",
            headers=[
                ("content-type", "text/plain"),
                ("content-length", str(len(_REFUSAL))),
                ("connection", "close"),
            ],
        )
        inner.sendall(down.send(head) or b"")
        inner.sendall(down.send(h11.Data(data=_REFUSAL)) or b"")
        inner.sendall(down.send(h11.EndOfMessage()) or b"")


class _Body:
    """A body as it passes, kept whole when it is to be read and not too large."""

    def __init__(self, keep: bool) -> None:
        self._parts: list[bytes] | None = [] if keep else None
        self._size = 0
        self.held = b""  # What was kept, once it grew too large to be read.

    def add(self, data: bytes) -> None:
        if self._parts is None:
            return
        self._size += len(data)
        self._parts.append(data)
        if self._size > MAX_READ_BYTES:
            self.held = b"".join(self._parts)
            self._parts = None

    @property
    def whole(self) -> bytes | None:
        return None if self._parts is None else b"".join(self._parts)


def _next_event(connection: h11.Connection, peer: socket.socket) -> object:
    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        connection.receive_data(peer.recv(_CHUNK))


def _drain(connection: h11.Connection, peer: socket.socket) -> None:
    """Read and drop the rest of a request (up to ``MAX_READ_BYTES``; past that, the
    connection is closed on it all the same)."""
    dropped = 0
    while dropped <= MAX_READ_BYTES:
        event = _next_event(connection, peer)
        if not isinstance(event, h11.Data):
            return
        dropped += len(event.data)


def _linger(connection: socket.socket) -> None:
    """Close our side gently: say we are done writing, then read what the app still sends
    until it closes too (2 s at most). Closing a socket with bytes it has not read resets
    the connection, and the app could lose the answer it was already sent."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(2)
        while connection.recv(_CHUNK):
            pass


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
