"""``medval server start --workers N``: real worker processes on one listening socket.

Which worker serves a connection is seen from outside, through ``/proc``: the worker
process that holds the server's end of the connection's socket. Nothing new is exposed
by the server for it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from tests.store.conftest import fresh_postgres_database, postgres_url

from medval.core.api import PREFIX
from medval.demo.embedded_server import server_process
from medval.server.settings import ServerSettings
from medval.server.store.database import normalize_url

from .conftest import HTTP_TIMEOUT, Api, User, make_world

__all__ = ["postgres_url"]  # a fixture, used through ``database_url``

MODELS = 8  # results uploaded: one per model, alternating between the two workers


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """'' (SQLite in the server's data folder) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return fresh_postgres_database(request.getfixturevalue("postgres_url"))


def _children(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == parent:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sockets(server_port: int, client_port: int | None) -> set[str]:
    """The inodes of the server's sockets on ``server_port``: its end of the connection
    from ``client_port``, or (None) the listening socket."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = (int(fields[1].split(":")[1], 16), fields[2], fields[3])
        if local != server_port:
            continue
        if (client_port is None and state == "0A") or (  # 0A: LISTEN
            client_port is not None and int(remote.split(":")[1], 16) == client_port
        ):
            found.add(f"socket:[{fields[9]}]")
    return found


def _holding(pids: set[int], sockets: set[str]) -> set[int]:
    holders = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in sockets:
                    holders.add(pid)
            except OSError:
                continue
    return holders


def _workers(parent: int, port: int) -> set[int]:
    """The parent's children that hold its listening socket (not multiprocessing's
    resource tracker, say)."""
    return _holding(_children(parent), _sockets(port, None))


def _served_by(server_port: int, client_port: int, workers: set[int]) -> int | None:
    """The worker holding the server's end of the connection from ``client_port``."""
    holders = _holding(workers, _sockets(server_port, client_port))
    return holders.pop() if len(holders) == 1 else None


def _connection_to(url: str, worker: int, workers: set[int]) -> http.client.HTTPConnection:
    """A kept-alive connection that ``worker`` serves (connections to the other worker are
    closed), opened just before its use: the server closes a connection idle for its
    keep-alive time (uvicorn's 5 s), which a connection held through a slow run of the
    test could outlive (``BrokenPipeError`` on its next request)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 0
    for _ in range(64):
        connection = http.client.HTTPConnection(host, port, timeout=60)
        connection.request("GET", PREFIX + "/health")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
        served_by = _served_by(port, connection.sock.getsockname()[1], workers)
        assert served_by is not None, "a connection no worker of the server holds"
        if served_by == worker:
            return connection
        connection.close()
    pytest.fail(f"64 connections did not reach worker {worker}")


def _upload(connection: http.client.HTTPConnection, headers: dict[str, str], body: Any) -> int:
    connection.request(
        "POST",
        PREFIX + "/results",
        body=json.dumps(body),
        headers=headers | {"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    response.read()
    return response.status


def _stored(database_url: str, benchmark_id: int) -> tuple[int, int]:
    """(results, distinct models among them), counted in SQL."""
    engine = sa.create_engine(normalize_url(database_url))
    try:
        with engine.connect() as db:
            query = "SELECT count(*), count(DISTINCT model_id) FROM results WHERE benchmark_id = :b"
            count, models = db.execute(sa.text(query), {"b": benchmark_id}).one()
    finally:
        engine.dispose()
    return int(count), int(models)


def test_two_workers_serve_and_store_every_upload_and_stop_on_sigterm(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_SERVER_PASSWORD_HASH_PROFILE", "test_only_cheapest")
    data_dir = tmp_path / "server"
    settings = ServerSettings(
        data_dir=data_dir, database_url=database_url, password_hash_profile="test_only_cheapest"
    )
    log = tmp_path / "server.log"
    with server_process(data_dir, log, database_url=database_url, workers=2) as (url, server):
        with httpx.Client(base_url=url, timeout=HTTP_TIMEOUT) as client:
            api = Api(client, settings)
            world = make_world(api)
            bench, vendor = world["bench"], world["vendor"]
            models = [world["model"]]
            for _ in range(MODELS - 1):
                models.append(api.cube(vendor, "model"))
                api.associate(vendor, world["benchmark"], "model", models[-1], bench)
            bodies = [
                api.signed("hospital", api.result_body(world["benchmark"], world["dataset"], m))
                for m in models
            ]
            hospital: User = world["hospital"]
        port = urlsplit(url).port or 0
        workers = _workers(server.pid, port)
        assert len(workers) == 2
        everyone = _children(server.pid)  # the workers and multiprocessing's resource tracker
        # The uploads alternate between the two workers.
        statuses = []
        for worker, body in zip(sorted(workers) * MODELS, bodies, strict=False):
            connection = _connection_to(url, worker, workers)
            statuses.append(_upload(connection, hospital.headers, body))
            connection.close()
        assert statuses == [201] * MODELS
        stored_url = database_url or settings.database_url
        assert _stored(stored_url, world["benchmark"]["id"]) == (MODELS, MODELS)

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in everyone if _running(pid)] == []


def test_ctrl_c_stops_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in a terminal signals the whole foreground process group: the parent and
    its workers (and multiprocessing's resource tracker) each get SIGINT."""
    monkeypatch.setenv("MEDVAL_SERVER_PASSWORD_HASH_PROFILE", "test_only_cheapest")
    log = tmp_path / "server.log"
    with server_process(tmp_path / "server", log, workers=2) as (url, server):
        assert len(_workers(server.pid, urlsplit(url).port or 0)) == 2
        everyone = _children(server.pid)
        for pid in (server.pid, *everyone):
            os.kill(pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in everyone if _running(pid)] == []
