"""Flower's SuperLink as medval starts it: on loopback only, with TLS and node
authentication, run-time installation off, its own database and Flower directory.

The SuperLink never faces the sites itself (``fleet_gate`` does): it listens on
127.0.0.1 with a throwaway certificate for 127.0.0.1, made at each start by a throwaway
CA (the Flower processes on this machine - ``flwr``, ``flower-superexec``, the ServerApp
- check it; the experiment's own certificate names the public address and could not).
Node authentication in Flower needs TLS, which is the other reason for it.

Under the aggregator's work directory::

    superlink.db        Flower's state (runs, registered nodes): kept across restarts
    flwr-home/          FLWR_HOME of every Flower process medval starts here
    serverapp/          the working directory of the SuperLink and so of each ServerApp
    loopback/           the throwaway CA, certificate and key (made at each start)
    logs/superlink.log  what the SuperLink and its ServerApps print

Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from medval.core.errors import TrainingError
from medval.training.ca import issue_server_certificate, new_experiment_ca, new_server_key_and_csr
from medval.training.flower_env import FlowerInstall
from medval.training.processes import free_port, start_process, stop_process_tree
from medval.training.progress import strip_colours

LOOPBACK = "127.0.0.1"
CONNECTION_NAME = "medval"


@dataclass(frozen=True)
class SuperLinkLayout:
    """Where a SuperLink's files are under the aggregator's work directory."""

    workdir: Path

    @property
    def database(self) -> Path:
        return self.workdir / "superlink.db"

    @property
    def flwr_home(self) -> Path:
        return self.workdir / "flwr-home"

    @property
    def serverapp_dir(self) -> Path:
        return self.workdir / "serverapp"

    @property
    def loopback_ca(self) -> Path:
        return self.workdir / "loopback" / "ca.crt"

    @property
    def loopback_cert(self) -> Path:
        return self.workdir / "loopback" / "server.pem"

    @property
    def loopback_key(self) -> Path:
        return self.workdir / "loopback" / "server.key"

    @property
    def log(self) -> Path:
        return self.workdir / "logs" / "superlink.log"


class SuperLink:
    """One ``flower-superlink`` process (and everything it starts)."""

    def __init__(self, flower: FlowerInstall, workdir: Path) -> None:
        self.flower = flower
        self.layout = SuperLinkLayout(workdir)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @property
    def address(self) -> str:
        """The SuperLink's loopback address (all three of its APIs)."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def environment(self) -> dict[str, str]:
        return self.flower.environment(self.layout.flwr_home)

    def start(self, timeout_seconds: float = 60.0) -> SuperLink:
        layout = self.layout
        for directory in (layout.flwr_home, layout.serverapp_dir, layout.loopback_ca.parent):
            directory.mkdir(parents=True, exist_ok=True)
        self._write_loopback_tls()
        self.port = free_port(LOOPBACK)
        self._write_connection()
        argv = [
            self.flower.command("flower-superlink"),
            "--ssl-ca-certfile",
            str(layout.loopback_ca),
            "--ssl-certfile",
            str(layout.loopback_cert),
            "--ssl-keyfile",
            str(layout.loopback_key),
            "--enable-supernode-auth",
            "--disable-runtime-dependency-installation",
            "--isolation",
            "subprocess",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--database",
            str(layout.database),
        ]
        self._log_start = layout.log.stat().st_size if layout.log.exists() else 0
        self._process = start_process(argv, self.environment, layout.serverapp_dir, layout.log)
        self._wait_until_serving(timeout_seconds)
        return self

    def stop(self) -> None:
        if self._process is not None:
            stop_process_tree(self._process)
            self._process = None

    @property
    def pid(self) -> int | None:
        """The ``flower-superlink`` process id while it runs."""
        return self._process.pid if self.running() and self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_loopback_tls(self) -> None:
        layout = self.layout
        ca = new_experiment_ca("loopback (throwaway)", valid_days=30)
        key_pem, csr_pem = new_server_key_and_csr(LOOPBACK)
        layout.loopback_ca.write_bytes(ca.cert_pem)
        layout.loopback_cert.write_bytes(issue_server_certificate(ca, csr_pem, LOOPBACK, 30))
        layout.loopback_key.touch(mode=0o600)
        layout.loopback_key.write_bytes(key_pem)

    def _write_connection(self) -> None:
        """The ``flwr`` CLI's connection to this SuperLink (``FLWR_HOME/config.toml``)."""
        ca = str(self.layout.loopback_ca).replace("\\", "\\\\").replace('"', '\\"')
        (self.layout.flwr_home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION_NAME}"\n\n'
            f"[superlink.{CONNECTION_NAME}]\n"
            f'address = "{self.address}"\n'
            f'root-certificates = "{ca}"\n'
        )

    def _wait_until_serving(self, timeout_seconds: float) -> None:
        context = ssl.create_default_context(cafile=str(self.layout.loopback_ca))
        deadline = time.monotonic() + timeout_seconds
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                self._process = None
                raise TrainingError(
                    f"the SuperLink exited while starting (exit code {code}): "
                    f"{self.last_log_line()}"
                )
            if _answers_tls(LOOPBACK, self.port, context) and self._started_superexec():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise TrainingError(
                    f"the SuperLink did not start within {timeout_seconds:.0f} s: "
                    f"{self.last_log_line()}"
                )
            time.sleep(0.2)

    def log_since_start(self) -> str:
        """What the SuperLink (and its ServerApps) printed since it last started."""
        try:
            with self.layout.log.open("rb") as log:
                log.seek(self._log_start)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def last_log_line(self) -> str:
        """The last line the SuperLink printed, without colour codes."""
        for line in reversed(self.log_since_start().splitlines()):
            text = strip_colours(line).strip()
            if text:
                return text[:300]
        return "no output"

    def _started_superexec(self) -> bool:
        # The SuperLink starts SuperExec (which runs each ServerApp) as its last step.
        return "Starting Flower SuperExec" in self.log_since_start()


def _answers_tls(host: str, port: int, context: ssl.SSLContext) -> bool:
    try:
        with (
            socket.create_connection((host, port), timeout=2) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except OSError:
        return False
