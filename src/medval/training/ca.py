"""An experiment's certificate authority: the aggregator's TLS certificate and the sites'
node keys.

Each training experiment has its own CA (ECDSA P-384), kept by medval's server. It signs
one thing: the aggregator's server certificate, for the address the sites dial. Sites
check the aggregator against this CA only, so a certificate of another experiment (or of
any public CA) is not accepted. Sites do not get certificates: Flower admits a SuperNode
by its node key (an ECDSA key on a NIST curve; Flower refuses Ed25519), whose public half,
in OpenSSH form, is registered at the SuperLink once the site's association is approved.

Every failure a user can cause is an ``InvalidInput`` of one line. Imports
``medval.core`` and ``cryptography`` only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from medval.core.errors import InvalidInput

CA_VALID_DAYS = 3 * 365
SERVER_VALID_DAYS = 365
# Backdating absorbs small clock differences between the CA and the sites.
_BACKDATE = timedelta(minutes=5)
# The curves of node keys medval accepts: Flower's NIST curves, without the weak ones.
_NODE_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_NO_ENCRYPTION = serialization.NoEncryption()


@dataclass(frozen=True)
class ExperimentCA:
    """The CA's private key and self-signed certificate, both PEM."""

    key_pem: bytes
    cert_pem: bytes


def server_host(address: str) -> str:
    """The host part of the address sites dial (an IP address or a DNS name, with or
    without ``:port``; an IPv6 address with a port in brackets), normalized."""
    text = address.strip()
    bracketed = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](:\d{1,5})?", text)
    if bracketed:
        text = bracketed.group(1)
    else:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            text = re.sub(r":\d{1,5}$", "", text)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.lower().rstrip(".")
    if not _DNS_NAME.match(name):
        raise InvalidInput(
            f"aggregator address {address!r} is neither an IP address nor a DNS name"
        )
    return name


def new_experiment_ca(name: str, valid_days: int = CA_VALID_DAYS) -> ExperimentCA:
    """A fresh CA for the experiment ``name``."""
    if not name.strip() or len(name) > 200:
        raise InvalidInput("an experiment CA needs the experiment's name (1 to 200 characters)")
    key = ec.generate_private_key(ec.SECP384R1())
    # A common name holds at most 64 characters; the name is only a label here.
    label = f"medval experiment {name.strip()}"[:64]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, label)])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    return ExperimentCA(key_pem=_private_pem(key), cert_pem=_cert_pem(cert))


def new_server_key_and_csr(address: str) -> tuple[bytes, bytes]:
    """A fresh aggregator key (PEM) and a request (CSR, PEM) for a certificate naming the
    host of ``address``. The key stays on the aggregator; only the CSR travels."""
    key = ec.generate_private_key(ec.SECP384R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medval aggregator")]))
        .add_extension(x509.SubjectAlternativeName([_general_name(address)]), critical=False)
        .sign(key, hashes.SHA384())
    )
    return _private_pem(key), csr.public_bytes(serialization.Encoding.PEM)


def issue_server_certificate(
    ca: ExperimentCA, csr_pem: bytes, address: str, valid_days: int = SERVER_VALID_DAYS
) -> bytes:
    """The aggregator's certificate (PEM) for ``csr_pem``, if the request is well formed,
    signed by its own key, and for ``address`` and nothing else."""
    wanted = _general_name(address)
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise InvalidInput("the certificate request is not a PEM CSR") from None
    if not csr.is_signature_valid:
        raise InvalidInput("the certificate request is not signed by its own key")
    _check_server_key(csr.public_key())
    try:
        names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise InvalidInput("the certificate request names no address") from None
    asked = list(names)
    if asked != [wanted]:
        shown = ", ".join(_shown(name) for name in asked) or "nothing"
        raise InvalidInput(
            f"the certificate request is for {shown}, not for the aggregator's address "
            f"{_shown(wanted)}"
        )
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("the experiment CA's key is not an ECDSA key")
    now = datetime.now(UTC)
    until = min(now + timedelta(days=valid_days), ca_cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medval aggregator")]))
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName([wanted]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA384())
    )
    return _cert_pem(cert)


def check_server_certificate(
    ca_cert_pem: bytes, cert_pem: bytes, address: str, now: datetime | None = None
) -> None:
    """Raise ``InvalidInput`` ("certificate does not match ...", saying why) unless
    ``cert_pem`` was issued by this CA, names the host of ``address`` and is valid now."""
    wanted = _general_name(address)
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise InvalidInput("certificate does not match: it is not a PEM certificate") from None
    try:
        ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    except ValueError:
        raise InvalidInput("the experiment CA's certificate is not PEM") from None
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise InvalidInput(
            "certificate does not match: it was not issued by this experiment's CA"
        ) from None
    try:
        names = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = []
    if wanted not in names:
        shown = ", ".join(_shown(name) for name in names) or "no address"
        raise InvalidInput(
            f"certificate does not match the aggregator's address {_shown(wanted)}: it is "
            f"for {shown}"
        )
    moment = now or datetime.now(UTC)
    if moment > cert.not_valid_after_utc:
        raise InvalidInput(
            f"certificate does not match: it expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    if moment < cert.not_valid_before_utc:
        raise InvalidInput(
            f"certificate does not match: it is valid only from "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )


def check_key_pair(cert_pem: bytes, key_pem: bytes) -> None:
    """Raise ``InvalidInput`` unless ``key_pem`` is the private key of ``cert_pem``."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(
            "certificate does not match: the server key or certificate is not PEM"
        ) from None
    if _public_der(key.public_key()) != _public_der(cert.public_key()):
        raise InvalidInput("certificate does not match the aggregator's server key")


def new_node_key() -> tuple[bytes, str]:
    """A fresh site node key: the private key (OpenSSH PEM, as ``flower-supernode``
    reads it) and its public half (one OpenSSH line, as the SuperLink registers it)."""
    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, _NO_ENCRYPTION
    )
    return private, _openssh_public(key.public_key())


def public_key_of(private_pem: bytes) -> str:
    """The public half (one OpenSSH line) of a node's private key, or ``InvalidInput``."""
    try:
        key = serialization.load_ssh_private_key(private_pem, password=None)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput("the node key is not an OpenSSH private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("the node key is not an ECDSA key")
    return _openssh_public(key.public_key())


def check_node_public_key(text: str) -> str:
    """The node public key ``text`` (OpenSSH form) normalized (no comment, one line), or
    ``InvalidInput`` if it is not an ECDSA key on P-256, P-384 or P-521."""
    line = text.strip()
    if not line or "\n" in line or len(line) > 2000:
        raise InvalidInput("a node public key is one OpenSSH line (ecdsa-sha2-nistp384 AAAA...)")
    try:
        key = serialization.load_ssh_public_key(line.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise InvalidInput(
            "the node public key is not an OpenSSH public key (ecdsa-sha2-nistp384 AAAA...)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, _NODE_CURVES):
        raise InvalidInput(
            "the node public key must be ECDSA on P-256, P-384 or P-521 (Flower's node "
            "authentication refuses other keys)"
        )
    return _openssh_public(key)


def node_public_key_pem(text: str) -> bytes:
    """The node public key ``text`` (OpenSSH form, checked as ``check_node_public_key``
    does) as PEM SubjectPublicKeyInfo: the form Flower's Control API registers (what
    ``flwr supernode register`` sends)."""
    key = serialization.load_ssh_public_key(check_node_public_key(text).encode("ascii"))
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- helpers -----------------------------------------------------------------------------


def _general_name(address: str) -> x509.GeneralName:
    host = server_host(address)
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _shown(name: x509.GeneralName) -> str:
    return str(name.value)


def _check_server_key(key: object) -> None:
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _NODE_CURVES):
        return
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return
    raise InvalidInput(
        "the certificate request's key must be ECDSA (P-256, P-384, P-521) or RSA of at "
        "least 2048 bits"
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _NO_ENCRYPTION
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_der(key: object) -> bytes:
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _openssh_public(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")
