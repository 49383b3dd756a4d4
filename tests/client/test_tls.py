"""HTTPS on loopback: the server serves a certificate signed by a throwaway CA made here;
a client that pins that CA connects, one that does not refuses in one line."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from medval.cli.main import main
from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings, tls_verify
from medval.core.errors import InvalidInput, ServerUnavailable
from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A CA, and a certificate it signed for 127.0.0.1."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("medval test CA"))
        .issuer_name(_name("medval test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server-key.pem")
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


@pytest.fixture
def https_server(pki: Pki, tmp_path: Path) -> Iterator[str]:
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        port=0,
        password_hash_profile="test_only_cheapest",
        certfile=pki.cert,
        keyfile=pki.key,
    )
    with BackgroundServer(settings) as server:
        create_admin(settings, "root", "root-password")
        yield server.url


def test_the_server_speaks_https(https_server: str) -> None:
    assert https_server.startswith("https://127.0.0.1:")


def test_a_client_with_the_ca_pinned_connects(https_server: str, pki: Pki) -> None:
    verify = tls_verify(ClientSettings(ca_bundle=pki.ca))
    with MedvalClient(https_server, verify=verify) as client:
        assert client.health()["status"] == "ok"
        assert client.login("root", "root-password").token


def test_a_client_without_the_ca_refuses_in_one_line(https_server: str) -> None:
    with MedvalClient(https_server) as client, pytest.raises(ServerUnavailable) as refused:
        client.health()
    assert refused.value.message == (
        f"the certificate of the medval server at {https_server} is not trusted; "
        "set MEDVAL_CA_BUNDLE to the CA that signed it"
    )


def test_a_ca_bundle_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(InvalidInput) as error:
        tls_verify(ClientSettings(ca_bundle=missing))
    assert error.value.message == f"cannot use the CA bundle {missing}: No such file or directory"


def test_the_cli_pins_the_ca_from_the_environment(
    https_server: str,
    pki: Pki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MEDVAL_PASSWORD", raising=False)

    def login() -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO("root-password\n"))
        capsys.readouterr()
        code = main(["login", "-s", https_server, "-u", "root", "--password-stdin"])
        return code, capsys.readouterr().err.strip()

    monkeypatch.delenv("MEDVAL_CA_BUNDLE", raising=False)
    assert login() == (
        7,
        f"error: the certificate of the medval server at {https_server} is not trusted; "
        "set MEDVAL_CA_BUNDLE to the CA that signed it",
    )
    monkeypatch.setenv("MEDVAL_CA_BUNDLE", str(pki.ca))
    code, said = login()
    assert code == 0 and said.startswith(f"logged in to {https_server} as root")
    assert main(["whoami"]) == 0
