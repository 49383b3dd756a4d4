"""Serving the console: bound to 127.0.0.1 only, on the port asked for (0: a free one),
announcing the one address (with its one-time token) that lets the data owner in.

Imports: uvicorn, the client's settings, this package.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from medval.client.settings import ClientSettings
from medval.console.app import create_app
from medval.console.session import LOOPBACK, ConsoleDoor
from medval.core.errors import InvalidInput, ServerUnavailable
from medval.core.listening import listen


def check_loopback(host: str) -> None:
    """The console never listens on another address: its pages run cubes on patient data."""
    if host != LOOPBACK:
        raise InvalidInput(
            f"medval console listens on {LOOPBACK} only (loopback), not on {host!r}; "
            "open it from this machine"
        )


def _listen(port: int) -> socket.socket:
    try:
        return listen(LOOPBACK, port)
    except OSError as exc:
        raise ServerUnavailable(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror}") from None


def serve_console(settings: ClientSettings, port: int, announce: Callable[[str], None]) -> None:
    """Serve until interrupted; ``announce`` hears the address with its token once the
    port listens."""
    sock = _listen(port)
    door = ConsoleDoor(sock.getsockname()[1])
    config = uvicorn.Config(create_app(settings, door), log_level="warning")
    announce(door.address)
    uvicorn.Server(config).run(sockets=[sock])
