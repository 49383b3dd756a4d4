"""Test helpers: an experiment's certificates for a free loopback port, and plain Flower
SuperNodes (no sandbox: the site side is tested elsewhere) dialling the aggregator."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medval.training.aggregator import AggregatorSettings
from medval.training.ca import (
    ExperimentCA,
    issue_server_certificate,
    new_experiment_ca,
    new_node_key,
    new_server_key_and_csr,
)
from medval.training.flower_env import FlowerInstall
from medval.training.processes import start_process, stop_process_tree


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Experiment:
    directory: Path
    ca: ExperimentCA
    address: str
    server_key_pem: bytes
    server_cert_pem: bytes

    @property
    def ca_file(self) -> Path:
        path = self.directory / "experiment-ca.crt"
        path.write_bytes(self.ca.cert_pem)
        return path

    def settings(self, workdir: Path) -> AggregatorSettings:
        return AggregatorSettings(
            workdir=workdir,
            ca_cert_pem=self.ca.cert_pem,
            server_cert_pem=self.server_cert_pem,
            server_key_pem=self.server_key_pem,
            address=self.address,
        )


def new_experiment(directory: Path, name: str = "linapp-test") -> Experiment:
    address = f"127.0.0.1:{free_port()}"
    ca = new_experiment_ca(name)
    key_pem, csr_pem = new_server_key_and_csr(address)
    return Experiment(
        directory, ca, address, key_pem, issue_server_certificate(ca, csr_pem, address)
    )


@dataclass(frozen=True)
class Site:
    name: str
    key_file: Path
    public_key: str


def new_site(directory: Path, name: str) -> Site:
    private_pem, public_key = new_node_key()
    key_file = directory / f"{name}.key"
    key_file.write_bytes(private_pem)
    key_file.chmod(0o600)
    return Site(name, key_file, public_key)


@contextmanager
def supernode(
    flower: FlowerInstall,
    experiment: Experiment,
    site: Site,
    partition: int,
    directory: Path,
    data_path: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A plain ``flower-supernode`` for ``site``, stopped (with its ClientApps) after. Its
    node config is the linapp's ``partition-id``, or ``data-path`` (a prepared dataset) when
    given."""
    home = directory / f"{site.name}-flwr-home"
    home.mkdir(exist_ok=True)
    argv = [
        flower.command("flower-supernode"),
        "--root-certificates",
        str(experiment.ca_file),
        "--superlink",
        experiment.address,
        "--auth-supernode-private-key",
        str(site.key_file),
        "--node-config",
        f"partition-id={partition}" if data_path is None else f'data-path="{data_path}"',
        "--port",
        str(free_port()),
        "--max-retries",
        "3",
    ]
    process = start_process(
        argv, flower.environment(home), directory, supernode_log(directory, site)
    )
    try:
        yield process
    finally:
        stop_process_tree(process, grace_seconds=2)


def supernode_log(directory: Path, site: Site) -> Path:
    return directory / f"{site.name}-supernode.log"


def wait_for(condition: Callable[[], bool], timeout_seconds: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()
