"""A listening TCP socket made before a server (uvicorn, the aggregator's gate) starts on it.

Imports: the standard library only.

Made here once for the three servers medval runs (the server, the console, the training
gate), because each announces or records its address before its server runs:
- bound first, so port 0 yields a known free port with no race;
- listening before anyone hears the address, so a client that connects at once is queued
  until the server accepts, not refused (a test saw ``medval console`` refused on the
  address it had just printed);
- its protocol named (IPPROTO_TCP, not 0): asyncio sets TCP_NODELAY only on accepted
  sockets whose ``proto`` says TCP, and they inherit it from this one. Without it every
  request after the first on a kept-alive connection stalled about 40 ms (Nagle's
  algorithm waiting on the client's delayed ACK; issue 14).
"""

from __future__ import annotations

import socket

# uvicorn's default; a server that hands the socket on listens again with its own.
BACKLOG = 2048


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``; OSError (closed) where it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock
