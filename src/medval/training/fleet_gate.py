"""The fleet gate: the only door from the sites to the aggregator's SuperLink.

Flower 1.42's SuperLink serves three APIs on one HTTP port: the Fleet API (SuperNodes:
protobuf over HTTP/1.1, ``POST /v1/fleet/<verb>``), the Control API (``flwr`` CLI and
medval's ``control``: start and stop runs, register and unregister nodes, read logs; no
authentication without Flower's enterprise plugins) and the Runtime API (the ServerApp).
Flower has no option to serve them on separate ports any more (``--fleet-api-address`` is
deprecated and ignored; its legacy gRPC Fleet server sits behind an internal switch) and a
path-level choice of what to expose needs something in front of it. So medval binds the
SuperLink to 127.0.0.1 and puts this gate on the public address: a TLS reverse proxy that passes on
exactly the twelve Fleet API calls a SuperNode makes (``POST`` to a fixed list of paths)
and answers everything else 404 itself, without forwarding it. The sites' TLS ends here,
with the experiment's server certificate (issued by the experiment CA for the address the
sites dial); the gate talks to the SuperLink over loopback TLS. Node authentication stays
Flower's: the signed headers a SuperNode sends pass through untouched and the SuperLink
checks them against the registered node keys.

What it does not protect: anyone with a shell on the aggregator machine reaches the
SuperLink's Control API on 127.0.0.1. The aggregator machine is the training owner's.

Imports ``httpx`` and ``uvicorn`` (medval's own dependencies) and ``medval.core``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from medval.core.errors import TrainingError
from medval.core.listening import listen

FLEET_PATHS = frozenset(
    f"/v1/fleet/{verb}"
    for verb in (
        "register-node",
        "activate-node",
        "deactivate-node",
        "unregister-node",
        "send-node-heartbeat",
        "pull-messages",
        "push-messages",
        "get-run",
        "get-fab",
        "push-object",
        "pull-object",
        "confirm-message-received",
    )
)
# Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
_TIMEOUT = httpx.Timeout(120.0, connect=10.0)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FleetProxy:
    """The ASGI application: Fleet API calls go on to ``upstream``; the rest is 404."""

    def __init__(self, upstream: str, upstream_ca: Path) -> None:
        self._upstream = upstream.rstrip("/")
        self._verify = ssl.create_default_context(cafile=str(upstream_ca))
        self._client: httpx.AsyncClient | None = None
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(verify=self._verify, timeout=_TIMEOUT)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] not in FLEET_PATHS or scope.get("query_string"):
            self.refused += 1
            await _answer(send, 404, b"not found\n")
            return
        if scope["method"] != "POST":
            self.refused += 1
            await _answer(send, 405, b"method not allowed\n")
            return
        assert self._client is not None, "the lifespan starts the client"
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in _HOP_BY_HOP
        ]
        request = self._client.build_request(
            "POST", self._upstream + scope["path"], headers=headers, content=_body(receive)
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError:
            await _answer(send, 502, b"the SuperLink is not answering\n")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name, value)
                        for name, value in response.headers.raw
                        if name.decode("latin-1").lower() not in _HOP_BY_HOP
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FleetGate:
    """The proxy served with TLS on ``host:port`` in a thread of this process::

    gate = FleetGate(host, port, certfile, keyfile).bind()  # a port in use: one line now
    gate.start(upstream, upstream_ca)                        # serves
    ...
    gate.stop()
    """

    def __init__(
        self,
        host: str,
        port: int,
        certfile: Path,
        keyfile: Path,
    ) -> None:
        self.host = host
        self.port = port
        self._certfile = certfile
        self._keyfile = keyfile
        self.proxy: FleetProxy | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def bind(self) -> FleetGate:
        """Take the port now: a port in use (or an address not on this machine) is one
        line before anything else starts."""
        if self._socket is None:
            self._socket = _bind(self.host, self.port)
            self.port = self._socket.getsockname()[1]
        return self

    def start(self, upstream: str, upstream_ca: Path, timeout_seconds: float = 20.0) -> FleetGate:
        """Serve, passing Fleet API calls on to ``upstream`` (an https URL whose
        certificate ``upstream_ca`` issued)."""
        sock = self.bind()._socket
        assert sock is not None
        self.proxy = FleetProxy(upstream, upstream_ca)
        config = uvicorn.Config(
            self.proxy,
            ssl_certfile=str(self._certfile),
            ssl_keyfile=str(self._keyfile),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http="h11",
            ws="none",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, args=(self._server, sock), name="fleet-gate", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise TrainingError(f"the fleet gate on {self.host}:{self.port} did not start")
            time.sleep(0.02)
        return self

    @staticmethod
    def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        asyncio.run(server.serve(sockets=[sock]))

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _bind(host: str, port: int) -> socket.socket:
    try:
        return listen(host, port)
    except OSError as error:
        raise TrainingError(
            f"the aggregator cannot listen on {host}:{port}: {error.strerror}"
        ) from None
