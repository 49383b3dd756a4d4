"""Container engines for the tests: use the one running, or start a Docker daemon and stop it.

Docker needs its daemon; when none answers and we are root, the tests start ``dockerd``
(no iptables, no bridge: tasks run with ``--network none`` anyway) on the usual socket
and stop it at the end of the session. Podman has no daemon. An engine that cannot
work here fails the tests that need it, with the engine's own last error line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from medval.runner import DockerRunner, PodmanRunner

DOCKER_SOCKET = Path("/var/run/docker.sock")
_START_SECONDS = 60


class EngineUnavailable(Exception):
    """Why an engine cannot run containers on this machine (a failure's reason)."""


def _answer(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


@contextmanager
def docker_daemon(workdir: Path) -> Iterator[None]:
    """A Docker daemon that answers for the whole block; stopped after if we started it."""
    if shutil.which("docker") is None or shutil.which("dockerd") is None:
        raise EngineUnavailable("docker is not installed: run `bash scripts/system-deps.sh`")
    answer = _answer("docker", "info")
    if answer.returncode == 0:
        yield  # Someone else's daemon: use it, leave it running.
        return
    if os.geteuid() != 0:
        raise EngineUnavailable(
            f"uid {os.geteuid()} cannot use the docker daemon (only root may start it; using "
            f"it takes the docker group): {_last_line(answer.stderr)}"
        )
    log = workdir / "dockerd.log"
    with log.open("wb") as handle:
        daemon = subprocess.Popen(
            [
                "dockerd",
                "--iptables=false",
                "--ip-masq=false",
                "--bridge=none",
                f"--exec-root={workdir / 'exec'}",
                f"--pidfile={workdir / 'dockerd.pid'}",
                f"--host=unix://{DOCKER_SOCKET}",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_docker(daemon, log)
        yield
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


def _wait_for_docker(daemon: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise EngineUnavailable(f"dockerd cannot start: {_last_line(log.read_text())}")
        if _answer("docker", "info").returncode == 0:
            return
        time.sleep(0.3)
    raise EngineUnavailable(f"dockerd did not answer in {_START_SECONDS} s: {log}")


def check_podman() -> None:
    """Raise EngineUnavailable unless ``podman`` can run containers here."""
    if shutil.which("podman") is None:
        raise EngineUnavailable("podman is not installed: run `bash scripts/system-deps.sh`")
    answer = _answer("podman", "info")
    if answer.returncode != 0:
        raise EngineUnavailable(f"podman cannot run here: {_last_line(answer.stderr)}")


def ready_docker(workdir: Path, python_packages: tuple[str, ...] = ()) -> Iterator[DockerRunner]:
    """A Docker runner on a daemon that answers (started in ``workdir`` if needed, stopped
    after), its Python image built up front, outside any task's clock. A test fails, never
    skips, where the engine cannot be used: `make test` installs it and CI must run it."""
    try:
        with docker_daemon(workdir):
            runner = DockerRunner(python_packages=python_packages)
            runner.python_image()
            yield runner
    except EngineUnavailable as reason:
        pytest.fail(f"Docker cannot be used here: {reason}")


def ready_podman(python_packages: tuple[str, ...] = ()) -> PodmanRunner:
    """A Podman runner, its Python image built up front; fails as ``ready_docker`` does."""
    try:
        check_podman()
    except EngineUnavailable as reason:
        pytest.fail(f"Podman cannot be used here: {reason}")
    runner = PodmanRunner(python_packages=python_packages)
    runner.python_image()
    return runner
