"""The experiment CA: it certifies the aggregator for its address only, a certificate of
another CA, address or time is named as such, and node keys are what Flower accepts."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from medval.core.errors import InvalidInput
from medval.training.ca import (
    check_key_pair,
    check_node_public_key,
    check_server_certificate,
    issue_server_certificate,
    new_experiment_ca,
    new_node_key,
    new_server_key_and_csr,
    server_host,
)


def test_an_issued_certificate_matches_its_ca_address_and_key() -> None:
    ca = new_experiment_ca("breast-cancer-fedavg")
    key_pem, csr_pem = new_server_key_and_csr("10.0.0.7")
    cert_pem = issue_server_certificate(ca, csr_pem, "10.0.0.7")

    check_server_certificate(ca.cert_pem, cert_pem, "10.0.0.7")
    check_server_certificate(ca.cert_pem, cert_pem, "10.0.0.7:9092")
    check_key_pair(cert_pem, key_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(name.value) for name in names] == ["10.0.0.7"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_key = ca_cert.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert ca_key.curve.name == "secp384r1"


def test_a_tls_client_trusting_the_ca_accepts_the_certificate_for_a_dns_name() -> None:
    ca = new_experiment_ca("exp")
    _, csr_pem = new_server_key_and_csr("Aggregator.Example.org")
    cert_pem = issue_server_certificate(ca, csr_pem, "aggregator.example.org:443")
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["aggregator.example.org"]
    # The standard library loads the CA as a trust anchor (the form sites give Flower).
    context = ssl.create_default_context(cadata=ca.cert_pem.decode())
    assert len(context.get_ca_certs()) == 1


def test_a_certificate_of_another_experiment_does_not_match() -> None:
    ca = new_experiment_ca("one")
    other = new_experiment_ca("one")
    _, csr_pem = new_server_key_and_csr("127.0.0.1")
    cert_pem = issue_server_certificate(other, csr_pem, "127.0.0.1")
    with pytest.raises(InvalidInput) as error:
        check_server_certificate(ca.cert_pem, cert_pem, "127.0.0.1")
    assert str(error.value) == (
        "certificate does not match: it was not issued by this experiment's CA"
    )


def test_a_certificate_for_another_address_does_not_match() -> None:
    ca = new_experiment_ca("exp")
    _, csr_pem = new_server_key_and_csr("127.0.0.1")
    cert_pem = issue_server_certificate(ca, csr_pem, "127.0.0.1")
    with pytest.raises(InvalidInput) as error:
        check_server_certificate(ca.cert_pem, cert_pem, "agg.example.org:9092")
    assert str(error.value) == (
        "certificate does not match the aggregator's address agg.example.org: it is for 127.0.0.1"
    )


def test_an_expired_certificate_does_not_match() -> None:
    ca = new_experiment_ca("exp")
    _, csr_pem = new_server_key_and_csr("127.0.0.1")
    cert_pem = issue_server_certificate(ca, csr_pem, "127.0.0.1", valid_days=1)
    later = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(InvalidInput) as error:
        check_server_certificate(ca.cert_pem, cert_pem, "127.0.0.1", now=later)
    until = x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
    assert str(error.value) == f"certificate does not match: it expired on {until:%Y-%m-%d}"


def test_a_server_key_that_is_not_the_certificates_does_not_match() -> None:
    ca = new_experiment_ca("exp")
    _, csr_pem = new_server_key_and_csr("127.0.0.1")
    other_key, _ = new_server_key_and_csr("127.0.0.1")
    cert_pem = issue_server_certificate(ca, csr_pem, "127.0.0.1")
    with pytest.raises(InvalidInput) as error:
        check_key_pair(cert_pem, other_key)
    assert str(error.value) == "certificate does not match the aggregator's server key"


def test_a_request_for_another_address_is_refused() -> None:
    ca = new_experiment_ca("exp")
    _, csr_pem = new_server_key_and_csr("10.0.0.8")
    with pytest.raises(InvalidInput) as error:
        issue_server_certificate(ca, csr_pem, "10.0.0.7")
    assert str(error.value) == (
        "the certificate request is for 10.0.0.8, not for the aggregator's address 10.0.0.7"
    )


def test_a_request_for_several_names_is_refused() -> None:
    ca = new_experiment_ca("exp")
    key = ec.generate_private_key(ec.SECP384R1())
    names = [x509.DNSName("agg.example.org"), x509.DNSName("evil.example.org")]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(InvalidInput) as error:
        issue_server_certificate(
            ca, csr.public_bytes(serialization.Encoding.PEM), "agg.example.org"
        )
    assert str(error.value) == (
        "the certificate request is for agg.example.org, evil.example.org, not for the "
        "aggregator's address agg.example.org"
    )


def test_a_malformed_request_is_refused() -> None:
    ca = new_experiment_ca("exp")
    with pytest.raises(InvalidInput) as error:
        issue_server_certificate(ca, b"-----BEGIN CERTIFICATE REQUEST-----\nxx\n", "1.2.3.4")
    assert str(error.value) == "the certificate request is not a PEM CSR"


def test_a_request_without_an_address_is_refused() -> None:
    ca = new_experiment_ca("exp")
    key = ec.generate_private_key(ec.SECP384R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "1.2.3.4")]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(InvalidInput) as error:
        issue_server_certificate(ca, csr.public_bytes(serialization.Encoding.PEM), "1.2.3.4")
    assert str(error.value) == "the certificate request names no address"


@pytest.mark.parametrize(
    ("address", "host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:9092", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]:9092", "::1"),
        ("Agg.Example.ORG.", "agg.example.org"),
        ("agg.example.org:9092", "agg.example.org"),
    ],
)
def test_the_host_of_an_address(address: str, host: str) -> None:
    assert server_host(address) == host


@pytest.mark.parametrize("address", ["", "http://agg", "agg_1.example", "a b", "-agg.org"])
def test_an_address_that_is_no_host_is_refused(address: str) -> None:
    with pytest.raises(InvalidInput) as error:
        server_host(address)
    assert str(error.value) == (
        f"aggregator address {address!r} is neither an IP address nor a DNS name"
    )


def test_a_node_key_is_ecdsa_p384_in_openssh_form() -> None:
    private_pem, public_text = new_node_key()
    assert private_pem.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert public_text.startswith("ecdsa-sha2-nistp384 ")
    private = serialization.load_ssh_private_key(private_pem, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    derived = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert derived.decode() == public_text
    assert check_node_public_key(f"  {public_text} site-a@hospital\n") == public_text


def test_a_p256_node_key_is_accepted() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    text = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    assert check_node_public_key(text) == text


def test_an_ed25519_node_key_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    text = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    with pytest.raises(InvalidInput) as error:
        check_node_public_key(text)
    assert str(error.value) == (
        "the node public key must be ECDSA on P-256, P-384 or P-521 (Flower's node "
        "authentication refuses other keys)"
    )


@pytest.mark.parametrize(
    "text", ["ecdsa-sha2-nistp384 AAAAnotbase64", "ssh-rsa", "-----BEGIN PUBLIC KEY-----"]
)
def test_text_that_is_no_openssh_key_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_node_public_key(text)
    assert str(error.value) == (
        "the node public key is not an OpenSSH public key (ecdsa-sha2-nistp384 AAAA...)"
    )


def test_several_lines_are_refused() -> None:
    _, one = new_node_key()
    _, two = new_node_key()
    with pytest.raises(InvalidInput) as error:
        check_node_public_key(f"{one}\n{two}")
    assert str(error.value) == (
        "a node public key is one OpenSSH line (ecdsa-sha2-nistp384 AAAA...)"
    )
