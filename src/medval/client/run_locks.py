"""What executions of one run take turns on when they run side by side (``--jobs N``).

Executions of one run share an :class:`~medval.client.execution.Executor`: its cache of
cube archives and images, and the prepared data it has hashed. Two executions must not
download the same archive into the same file, unpack the same image twice, or both hash
the same data: each of these holds the lock of its key (``("blob", sha256)``,
``("image", image_id)``, ``("data", folders and hash)``) while it works, and the one
that comes second finds the work done. Different keys never wait for each other.

Imports: the standard library only.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class RunLocks:
    """One lock per key, made when first asked for."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    @contextmanager
    def held(self, key: Hashable) -> Iterator[None]:
        """The block runs while no other thread holds ``key``."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield
