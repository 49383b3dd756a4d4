"""A loopback HTTP proxy that records every request on its way to the real server.

The privacy test points a data owner's client at this proxy instead of the server, so
it sees exactly the bytes that would cross the hospital's network boundary.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import httpx

from tests.loopback_http import serving


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: bytes

    def text(self) -> str:
        return f"{self.method} {self.path}\n" + self.body.decode("utf-8", errors="replace")


def _handler(upstream: str, log: list[Recorded], lock: threading.Lock) -> type:
    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                log.append(Recorded(self.command, self.path, body))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}
            }
            reply = httpx.request(
                self.command, upstream + self.path, content=body, headers=headers, timeout=120
            )
            self.send_response(reply.status_code)
            for key, value in reply.headers.items():
                if key.lower() not in {
                    "content-length",
                    "transfer-encoding",
                    "connection",
                    "content-encoding",
                }:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Forward


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, list[Recorded]]]:
    log: list[Recorded] = []
    with serving(_handler(upstream, log, threading.Lock())) as url:
        yield url, log
