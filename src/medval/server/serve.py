"""Serving the app with uvicorn: in the foreground (the CLI), with one process or several
(``workers``), or in a background thread (tests, the demo)."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from types import TracebackType

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from medval.core import api
from medval.core.errors import InvalidInput, ServerUnavailable
from medval.core.listening import listen
from medval.server.app import create_app
from medval.server.settings import ServerSettings
from medval.server.store.migrate import upgrade_database
from medval.server.web.session import FormSecret, app_form_secret

_WORKER_ANSWER_SECONDS = 60
logger = logging.getLogger("uvicorn.error")  # where uvicorn's supervisor says what it does


def _bind(settings: ServerSettings) -> socket.socket:
    """Listening before uvicorn starts (see ``core.listening``: a known port, no client
    refused, TCP_NODELAY on every accepted connection)."""
    try:
        return listen(settings.host, settings.port)
    except OSError as exc:
        raise ServerUnavailable(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None


def _check_tls(settings: ServerSettings) -> None:
    """A certificate and key that cannot be used are one line before anything starts
    (uvicorn would only find out while starting, with a traceback)."""
    if settings.certfile is None or settings.keyfile is None:
        return
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.certfile, settings.keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInput(
            f"cannot serve HTTPS with certificate {settings.certfile} and key "
            f"{settings.keyfile}: {reason}"
        ) from None


@dataclass(frozen=True)
class AppFactory:
    """Builds the app from ``settings`` in whichever process serves it: uvicorn's worker
    processes are spawned, not forked, so each is handed this (pickled, settings and all)
    and calls it (``uvicorn.Config(..., factory=True)``); no settings go through a
    module's globals or the environment. ``freeze_heap``: whether the process is the
    server's own (see ``create_app``); a ``BackgroundServer`` shares its process."""

    settings: ServerSettings
    freeze_heap: bool = True

    def __call__(self) -> FastAPI:
        app = create_app(self.settings, freeze_heap=self.freeze_heap)
        app_form_secret(app)  # read now, before the first request
        return app


def _config(settings: ServerSettings, log_level: str, freeze_heap: bool = True) -> uvicorn.Config:
    return uvicorn.Config(
        AppFactory(settings, freeze_heap),
        factory=True,
        workers=settings.workers,
        # The supervisor pings each worker and replaces one that does not answer in time;
        # a worker spawned on a busy machine can take longer than uvicorn's 5 s to import
        # the app, and was replaced while it started.
        timeout_worker_healthcheck=_WORKER_ANSWER_SECONDS,
        timeout_keep_alive=api.SERVER_KEEP_ALIVE_SECONDS,  # clients reuse for less
        log_level=log_level,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
    )


def _server(settings: ServerSettings, log_level: str, freeze_heap: bool = True) -> uvicorn.Server:
    config = _config(settings, log_level, freeze_heap)
    config.load()  # the app built here: a damaged form key stops the start in one line
    return uvicorn.Server(config)


def run_server(
    settings: ServerSettings,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Migrate the database, then serve until interrupted; ``announce`` hears the URL
    once the database is ready and the port is bound.

    With ``settings.workers`` above 1 this process migrates, binds and then only
    supervises: uvicorn's ``Multiprocess`` spawns that many workers, each serving the
    same listening socket (so each accepted connection keeps TCP_NODELAY, see ``_bind``),
    restarts one that dies, and on SIGINT or SIGTERM stops them all and waits for them.
    """
    _check_tls(settings)
    upgrade_database(settings)
    # Made (or read) once here, before any worker: a damaged key is one line, not a
    # worker that fails and is restarted for ever; the workers then only read it.
    FormSecret.kept_in(settings.data_dir)
    sock = _bind(settings)
    if announce is not None:
        host, port = sock.getsockname()[:2]
        announce(f"{settings.scheme}://{host}:{port}")
    if settings.workers == 1:
        _server(settings, log_level).run(sockets=[sock])
        return
    config = _config(settings, log_level)
    # Multiprocess calls the target in each worker: a Server whose config builds the app
    # there (``AppFactory``), as ``uvicorn.run`` does for an import string.
    _Supervisor(config, target=uvicorn.Server(config).run, sockets=[sock]).run()


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, with a health check that also sees a worker die, and that
    stops, not restarts, when a signal to stop came in meanwhile.

    Ctrl-C in a terminal sends SIGINT to the parent and its workers at once. uvicorn's own
    check pings a worker and waits on the pipe alone; the parent holds both ends of it,
    so a worker that died during the ping (one still starting dies of the SIGINT at
    once) left the supervisor waiting the whole ``_WORKER_ANSWER_SECONDS``, and a worker
    found dead was started again before the supervisor read its own SIGINT. This is
    uvicorn's ``keep_subprocess_alive`` with those two changes; the rest is uvicorn's.
    """

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return  # stopping: no worker is started again
        for index, worker in enumerate(self.processes):
            if self._answers(worker):
                continue
            worker.kill()
            worker.join()
            self.handle_signals()  # a worker that died of the stop signal: stop
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{worker.pid}] died")
            replacement = Process(self.config, self.target, self.sockets)
            replacement.start()
            self.processes[index] = replacement

    def _answers(self, worker: Process) -> bool:
        if not worker.process.is_alive():
            return False
        worker.parent_conn.send(b"ping")
        ready = wait([worker.parent_conn, worker.process.sentinel], _WORKER_ANSWER_SECONDS)
        if worker.parent_conn not in ready:
            return False  # it died, or did not answer in time
        worker.parent_conn.recv()
        return True


class BackgroundServer:
    """A real server in a daemon thread, for tests and the demo::

    with BackgroundServer(settings) as server:
        httpx.get(server.url + "/api/v1/health")
    """

    def __init__(self, settings: ServerSettings, log_level: str = "warning") -> None:
        self.settings = settings
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout_seconds: float = 20.0) -> BackgroundServer:
        _check_tls(self.settings)
        upgrade_database(self.settings)
        sock = _bind(self.settings)
        host, port = sock.getsockname()[:2]
        self.url = f"{self.settings.scheme}://{host}:{port}"
        # The thread's process does other work (a test, the demo): its heap is not the
        # server's to freeze.
        self._server = _server(self.settings, self._log_level, freeze_heap=False)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerUnavailable(f"the server at {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
