"""The site's node key, as Flower's SuperNode reads it, and the experiment's CA certificate.

The SuperLink admits a SuperNode by its public key (SuperNode authentication, over TLS):
the key medval issues to a site once its association is approved
(:func:`medval.training.ca.new_node_key`). Flower reads the private half as an OpenSSH
private key on a NIST curve; a site may be handed it in that form or as PKCS#8 PEM.
:func:`write_node_key` writes it in Flower's form, readable by its owner only.
Imports ``core`` and ``cryptography``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from medval.core.errors import InvalidInput

# The curves an OpenSSH key, and so Flower's node authentication, can have.
_FLOWER_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


def load_node_key(key: bytes) -> ec.EllipticCurvePrivateKey:
    """The site's private node key from PEM (PKCS#8 or traditional) or OpenSSH form."""
    loaded: object
    try:
        if key.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            loaded = serialization.load_ssh_private_key(key, password=None)
        else:
            loaded = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise InvalidInput("the site's node key is not an unencrypted PEM private key") from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
        loaded.curve, _FLOWER_CURVES
    ):
        raise InvalidInput(
            "the site's node key is not an ECDSA key on P-256, P-384 or P-521, which "
            "Flower's SuperNode authentication needs"
        )
    return loaded


def write_node_key(key: bytes, path: Path) -> str:
    """Write the key where the SuperNode reads it (mode 0600); return its public key as
    the one OpenSSH line the aggregator registers."""
    private = load_node_key(key)
    data = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def check_ca_certificate(path: Path) -> None:
    """The experiment's CA certificate must be a readable PEM certificate."""
    try:
        x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(
            f"cannot read the experiment's CA certificate {path}: {exc.strerror}"
        ) from None
    except ValueError:
        raise InvalidInput(f"{path} is not a PEM certificate (the experiment's CA)") from None
