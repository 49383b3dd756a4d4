"""Faults on purpose: a server process the test can SIGKILL and restart, and a loopback
TCP proxy in front of it that breaks one exchange at a chosen point.

The proxy forwards bytes both ways untouched until its one armed fault fires:

- ``cut_request(marker, after, then)``: once a request containing ``marker`` (its
  request line, say ``b"PUT /api/v1/blobs/"``) has passed ``after`` bytes from the
  marker on, ``then`` runs (it kills the server, say) and both sides are closed: the
  server got part of the request.
- ``drop_answer(marker, then)``: the request containing ``marker`` reaches the server
  whole; the first bytes of its answer are swallowed, ``then`` runs, and both sides are
  closed: the server did the work, the client never heard.

The clients log in through the proxy (their stored login names its URL), so the proxy
stays up while the server behind it is killed and started again on the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from medval.core import api
from medval.demo.embedded_server import free_port, server_env
from medval.server.settings import CHEAPEST_HASHING_ENV


class KillableServer:
    """``medval server start`` on a fixed port and data folder, killed with SIGKILL."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "medval", "server", "start"],
                env={**server_env(self.data_dir, self.port), **CHEAPEST_HASHING_ENV},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + api.PREFIX + api.HEALTH, timeout=2).is_success:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no answer, no flush."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class _Fault:
    kind: str  # "cut_request" or "drop_answer"
    marker: bytes
    after: int
    then: Callable[[], None]
    fired: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Connection:
    fault: _Fault | None
    marked: bool = False
    since_marker: int = 0
    tail: bytes = b""


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._fault: _Fault | None = None
        self._lock = threading.Lock()
        self.forwarded_to_server = 0  # bytes from clients to the server, all connections
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    # --- arming -------------------------------------------------------------------------

    def cut_request(self, marker: bytes, after: int, then: Callable[[], None]) -> threading.Event:
        return self._arm(_Fault("cut_request", marker, after, then))

    def drop_answer(self, marker: bytes, then: Callable[[], None]) -> threading.Event:
        return self._arm(_Fault("drop_answer", marker, 0, then))

    def _arm(self, fault: _Fault) -> threading.Event:
        with self._lock:
            self._fault = fault
        return fault.fired

    def _fire(self, fault: _Fault, *sockets: socket.socket) -> None:
        with self._lock:
            if fault.fired.is_set():
                return
            fault.then()
            fault.fired.set()
            self._fault = None
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    # --- forwarding ---------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:  # the server is down: the client sees its connection closed
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            state = _Connection(self._fault)
        threading.Thread(target=self._answers, args=(upstream, client, state), daemon=True).start()
        self._requests(client, upstream, state)

    def _requests(self, client: socket.socket, upstream: socket.socket, state: _Connection) -> None:
        fault = state.fault
        try:
            while data := client.recv(1 << 16):
                if fault is not None and not fault.fired.is_set():
                    if not state.marked:
                        window = state.tail + data
                        found = window.find(fault.marker)
                        if found >= 0:
                            state.marked = True
                            state.since_marker = len(window) - found
                        state.tail = window[-len(fault.marker) :]
                    else:
                        state.since_marker += len(data)
                    if fault.kind == "cut_request" and state.since_marker >= fault.after:
                        keep = len(data) - (state.since_marker - fault.after)
                        upstream.sendall(data[: max(keep, 0)])
                        self.forwarded_to_server += max(keep, 0)
                        time.sleep(0.5)  # let the server take in what it was sent
                        self._fire(fault, client, upstream)
                        return
                upstream.sendall(data)
                self.forwarded_to_server += len(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _answers(self, upstream: socket.socket, client: socket.socket, state: _Connection) -> None:
        fault = state.fault
        try:
            while data := upstream.recv(1 << 16):
                if (
                    fault is not None
                    and fault.kind == "drop_answer"
                    and state.marked
                    and not fault.fired.is_set()
                ):
                    self._fire(fault, client, upstream)
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stopping = True
        self._listener.close()


@contextmanager
def fault_proxy(upstream_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
