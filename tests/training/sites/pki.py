"""An experiment's certificates for the site's tests, made by medval's own CA
(:mod:`medval.training.ca`): its certificate, the aggregator's TLS certificate for
127.0.0.1, and site node keys, as medval hands them to a site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medval.training.ca import (
    issue_server_certificate,
    new_experiment_ca,
    new_node_key,
    new_server_key_and_csr,
)

AGGREGATOR_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ExperimentPki:
    ca_certificate: Path
    server_certificate: Path
    server_key: Path

    def site_key(self, folder: Path, name: str) -> tuple[bytes, Path]:
        """A new node key: its private key, and its OpenSSH public line in a file."""
        private, public = new_node_key()
        public_file = folder / f"{name}.pub"
        public_file.write_text(public + "\n")
        return private, public_file


def make_pki(folder: Path) -> ExperimentPki:
    folder.mkdir(parents=True, exist_ok=True)
    ca = new_experiment_ca(f"test {folder.name}")
    server_key, csr = new_server_key_and_csr(AGGREGATOR_HOST)
    pki = ExperimentPki(folder / "ca.crt", folder / "server.pem", folder / "server.key")
    pki.ca_certificate.write_bytes(ca.cert_pem)
    pki.server_certificate.write_bytes(issue_server_certificate(ca, csr, AGGREGATOR_HOST))
    pki.server_key.write_bytes(server_key)
    pki.server_key.chmod(0o600)
    return pki
