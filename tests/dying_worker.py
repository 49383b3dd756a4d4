"""A server worker that dies while it starts: imported in a spawned child (as a worker's
target is, when it is unpickled), it takes a second and exits, before it could answer
its supervisor's health check. Imported anywhere else it does nothing."""

from __future__ import annotations

import multiprocessing
import socket
import time

# A spawned child is named before it unpickles its target (the parent is "MainProcess").
if multiprocessing.current_process().name != "MainProcess":
    time.sleep(1)
    raise SystemExit(3)


def serve(sockets: list[socket.socket] | None = None) -> None:
    """Never reached in the worker."""
