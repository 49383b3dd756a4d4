"""A plain Flower aggregator for the site's tests: ``flower-superlink`` on 127.0.0.1 with
TLS (the test CA) and SuperNode authentication, the ``flwr`` CLI to register site keys and
start runs. medval's own aggregator is another room's (``medval.training.aggregator``); the
site must work with Flower's SuperLink as it is.

Every process is started in its own process group and killed whole at the end.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from medval.training.flower_env import find_flower
from medval.training.flower_process import FlowerProcess
from medval.training.processes import free_port

from .pki import ExperimentPki

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# Flower's commands, found where this Python's are (the SuperLink starts its own).
FLOWER = find_flower()


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class FlowerRun:
    """One ``flwr run ... --stream``: its output, line by line, as it comes."""

    process: FlowerProcess
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, line: str) -> None:
        with self.changed:
            self.lines.append(_ANSI.sub("", line))
            self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float, count: int = 1) -> list[str]:
        """The first ``count`` lines that match ``pattern``; fails with the output so far."""
        expression = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [line for line in self.lines if expression.search(line)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0 or (not self.process.running() and not found):
                    if not self.process.running() and left > 0:
                        # Its reader may still be handing over the last lines.
                        self.changed.wait(0.5)
                        found = [line for line in self.lines if expression.search(line)]
                        if len(found) >= count:
                            return found[:count]
                    tail = "\n".join(self.lines[-40:])
                    raise AssertionError(f"no {count} lines matching {pattern!r}:\n{tail}")
                self.changed.wait(min(left, 1.0))

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.running():
            if time.monotonic() > deadline:
                tail = "\n".join(self.lines[-40:])
                raise AssertionError(f"flwr run did not end within {timeout} s:\n{tail}")
            time.sleep(0.2)
        code = self.process.exit_code()
        assert code is not None
        return code

    @property
    def text(self) -> str:
        with self.changed:
            return "\n".join(self.lines)


@dataclass
class PlainAggregator:
    folder: Path
    pki: ExperimentPki
    port: int = 0
    _superlink: FlowerProcess | None = None
    _runs: list[FlowerRun] = field(default_factory=list)
    _plain_sites: list[FlowerProcess] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def cli_home(self) -> Path:
        return self.folder / "cli-home"

    def start(self) -> None:
        self.port = free_port()
        home = self.folder / "superlink-home"
        home.mkdir(parents=True, exist_ok=True)
        self.cli_home.mkdir(parents=True, exist_ok=True)
        (self.cli_home / "config.toml").write_text(
            "[superlink]\n"
            'default = "test"\n\n'
            "[superlink.test]\n"
            f'address = "{self.address}"\n'
            f'root-certificates = "{self.pki.ca_certificate}"\n'
        )
        argv = [
            FLOWER.command("flower-superlink"),
            "--ssl-ca-certfile", str(self.pki.ca_certificate),
            "--ssl-certfile", str(self.pki.server_certificate),
            "--ssl-keyfile", str(self.pki.server_key),
            "--enable-supernode-auth",
            "--disable-runtime-dependency-installation",
            "--host", "127.0.0.1",
            "--port", str(self.port),
        ]  # fmt: skip
        self._superlink = FlowerProcess(
            "superlink",
            argv,
            {**FLOWER.environment(home), "HOME": str(home)},
            self.folder / "superlink.log",
            lambda line: None,
        )
        self._superlink.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            except OSError:
                if time.monotonic() > deadline or not self._superlink.running():
                    said = (self.folder / "superlink.log").read_text()
                    raise AssertionError(f"the SuperLink did not start:\n{said}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        for process in self._plain_sites:
            process.kill()
        for run in self._runs:
            run.process.kill()
        if self._superlink is not None:
            self._superlink.stop(5)

    def _cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        environment = {**FLOWER.environment(self.cli_home), "HOME": str(self.cli_home)}
        return subprocess.run(
            [FLOWER.command("flwr"), *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def register(self, public_key: Path) -> None:
        """Admit a site's node key (as medval does once its association is approved)."""
        done = self._cli("supernode", "register", str(public_key), "test")
        assert done.returncode == 0, done.stdout + done.stderr

    def run(self, app: Path, config: Mapping[str, object]) -> FlowerRun:
        """Start the app as a run, its logs streamed."""
        overrides = " ".join(f"{key}={_toml_value(value)}" for key, value in config.items())
        environment = {**FLOWER.environment(self.cli_home), "HOME": str(self.cli_home)}
        log = self.folder / f"run-{len(self._runs)}.log"
        holder: list[FlowerRun] = []
        process = FlowerProcess(
            "flwr-run",
            [FLOWER.command("flwr"), "run", str(app), "test", "-c", overrides, "--stream"],
            environment,
            log,
            lambda line: holder[0].add(line),
        )
        run = FlowerRun(process)
        holder.append(run)
        self._runs.append(run)
        process.start()
        return run

    def plain_site(self, name: str, node_key: bytes, dataset: Path) -> FlowerProcess:
        """A SuperNode as plain Flower runs one: its ClientApps in Flower's own subprocesses,
        no sandbox, the dataset at its host path."""
        folder = self.folder / "plain-sites" / name
        folder.mkdir(parents=True)
        key = folder / "node"
        key.write_bytes(node_key)
        key.chmod(0o600)
        argv = [
            FLOWER.command("flower-supernode"),
            "--superlink", self.address,
            "--root-certificates", str(self.pki.ca_certificate),
            "--auth-supernode-private-key", str(key),
            "--node-config", f'data-path="{dataset}"',
            "--isolation", "subprocess",
            "--host", "127.0.0.1",
            "--port", str(free_port()),
        ]  # fmt: skip
        process = FlowerProcess(
            name,
            argv,
            {**FLOWER.environment(folder), "HOME": str(folder)},
            folder / "supernode.log",
            lambda line: None,
        )
        self._plain_sites.append(process)
        process.start()
        return process


def started_aggregator(folder: Path, pki: ExperimentPki) -> Iterator[PlainAggregator]:
    aggregator = PlainAggregator(folder, pki)
    try:
        aggregator.start()
        yield aggregator
    finally:
        aggregator.stop()
