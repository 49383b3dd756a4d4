"""The ClientApp's one channel out of its sandbox: a unix socket relayed to the SuperNode.

The sandbox has no network. Its only way out is a unix socket that medval binds into it
(the channel folder); outside, this relay carries each connection made to that socket to
the SuperNode's Runtime API on the host's loopback, byte for byte, and nowhere else.
What the bytes say is checked inside, by the launcher (:mod:`medval.training.clientapp_launcher`).

Imports nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import threading
from pathlib import Path
from types import TracebackType

_CHUNK = 1 << 16


class Channel:
    """Relays connections on the unix socket ``socket_path`` to ``host:port`` (TCP).

    The socket file is made connectable by the sandbox user (who may be another uid
    when medval runs as root): keep it in a folder no one else can reach.
    """

    def __init__(self, socket_path: Path, host: str, port: int) -> None:
        self.socket_path = socket_path
        self.target = (host, port)
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
            try:
                outer = socket.create_connection(self.target, timeout=10)
                outer.settimeout(None)
            except OSError:
                inner.close()
                continue
            with self._lock:
                self._connections.update((inner, outer))
            done = threading.Barrier(2, action=functools.partial(self._forget, (inner, outer)))
            for source, sink in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(source, sink, done), daemon=True).start()

    def _forget(self, pair: tuple[socket.socket, socket.socket]) -> None:
        """Both directions are over: close the two sockets."""
        with self._lock:
            for connection in pair:
                self._connections.discard(connection)
                connection.close()


def _pump(source: socket.socket, sink: socket.socket, done: threading.Barrier) -> None:
    try:
        while data := source.recv(_CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    # The other direction may still be carrying an answer: end this one only.
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
    done.wait()


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
