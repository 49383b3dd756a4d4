"""A real medval server in a child process on loopback, with an SQLite database unless a
URL is given, in one process or several (``workers``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from medval.core import api
from medval.core.errors import ServerUnavailable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, port: int, database_url: str = "") -> dict[str, str]:
    """The environment of a server child process; SQLite in ``data_dir`` unless a URL is given."""
    env = dict(os.environ)
    env["MEDVAL_SERVER_DATA_DIR"] = str(data_dir)
    env["MEDVAL_SERVER_HOST"] = "127.0.0.1"
    env["MEDVAL_SERVER_PORT"] = str(port)
    env["MEDVAL_SERVER_DATABASE_URL"] = database_url
    return env


@contextmanager
def embedded_server(
    data_dir: Path,
    log_path: Path,
    port: int | None = None,
    database_url: str = "",
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start ``medval server start`` and yield its URL once it answers; stop it after.
    ``extra_env``: more settings of the server (``MEDVAL_SERVER_...``)."""
    with server_process(data_dir, log_path, port, database_url, workers, extra_env) as (url, _):
        yield url


@contextmanager
def server_process(
    data_dir: Path,
    log_path: Path,
    port: int | None = None,
    database_url: str = "",
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``embedded_server``, yielding the server's process too (with ``workers`` above 1,
    the parent of the worker processes). Stopped by SIGTERM, as a service manager does."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "medval", "server", "start", "--workers", str(workers)],
            env={**server_env(data_dir, port, database_url), **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_until_healthy(url, process, log_path)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"the server stopped at start-up; see {log_path}")
        try:
            if httpx.get(url + api.PREFIX + api.HEALTH, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ServerUnavailable(f"the server did not answer within 60 s; see {log_path}")
