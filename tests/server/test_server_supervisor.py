"""The supervisor of ``medval server start --workers N`` (``server.serve._Supervisor``):
its health check sees a worker that dies before it answers."""

from __future__ import annotations

import socket
import time

import uvicorn
from tests import dying_worker

from medval.server import serve


def test_a_worker_that_dies_while_it_starts_is_seen_dead_at_once() -> None:
    """Ctrl-C reaches a worker still importing the app, which dies of it. uvicorn's own
    check waited on the pipe alone, whose both ends the supervisor holds: the whole
    timeout (a minute) before it could act on the Ctrl-C it had received meanwhile."""
    config = uvicorn.Config("tests.dying_worker:serve", workers=1)
    with socket.socket() as sock:
        supervisor = serve._Supervisor(config, target=dying_worker.serve, sockets=[sock])
        worker = serve.Process(config, dying_worker.serve, [sock])
        worker.start()
        try:
            started = time.monotonic()
            assert supervisor._answers(worker) is False
            assert time.monotonic() - started < serve._WORKER_ANSWER_SECONDS / 4
            worker.join()
            assert worker.process.exitcode == 3
        finally:
            worker.kill()
            worker.join()
