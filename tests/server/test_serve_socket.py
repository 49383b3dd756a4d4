"""The server's listening socket: accepted connections get TCP_NODELAY under asyncio.

asyncio sets TCP_NODELAY only on sockets whose ``proto`` says TCP, and an accepted socket
inherits ``proto`` from the listening one. Made with ``proto=0``, every request after the
first on a kept-alive connection stalled about 40 ms (issue 14). uvicorn runs on asyncio's
own loop where uvloop is not installed, as in a plain install of medval."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

from medval.server.serve import _bind
from medval.server.settings import ServerSettings


def test_an_accepted_connection_sends_without_delay(tmp_path: Path) -> None:
    listening = _bind(ServerSettings(data_dir=tmp_path, host="127.0.0.1", port=0))
    assert listening.proto == socket.IPPROTO_TCP
    seen: list[int] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    async def connect_once() -> None:
        server = await asyncio.start_server(accepted, sock=listening)
        host, port = listening.getsockname()[:2]
        async with server:
            _, writer = await asyncio.open_connection(host, port)
            while not seen:
                await asyncio.sleep(0.01)
            writer.close()

    # A thread of its own: an earlier test in the same process (a browser's or a test
    # client's portal) may leave an event loop marked running in this one.
    ran = threading.Thread(target=asyncio.run, args=(asyncio.wait_for(connect_once(), 10),))
    ran.start()
    ran.join(20)
    assert seen == [1]
