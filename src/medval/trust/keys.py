"""Ed25519 signing keys: made, written and read as PEM, named by a key id.

A public key travels as base64 of its 32 raw bytes; its id is the sha256 (hex) of
those bytes, so an id names exactly one key and anyone can recompute it. Imports only
``medval.core`` and ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from medval.core.errors import InvalidInput

__all__ = ["SigningKey", "key_id", "public_key_from_text", "signature_matches"]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: str) -> str:
    """The id of a public key given as text (base64 of its raw bytes)."""
    return hashlib.sha256(_raw(public_key_from_text(public_key))).hexdigest()


def public_key_from_text(public_key: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes; anything else is one line."""
    try:
        raw = base64.b64decode(public_key.encode("ascii"), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidInput("public_key: not an Ed25519 public key (base64 of 32 bytes)") from exc


def signature_matches(public_key: str, signature: str, message: bytes) -> bool:
    """Whether ``signature`` (base64) is the key's signature of ``message``."""
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key_from_text(public_key).verify(raw, message)
    except (InvalidSignature, InvalidInput, ValueError, UnicodeError, binascii.Error):
        return False
    return True


def private_key_from_pem(pem: bytes, where: str, what: str) -> PrivateKeyTypes:
    """A private key (``what``: "a signing key") from an unencrypted PKCS #8 PEM file;
    anything else is one line naming ``where``. The caller checks the key's kind."""
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{where} does not hold {what} (PEM, PKCS #8)") from exc


def private_key_pem(private: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """The key as an unencrypted PKCS #8 PEM file (the file itself is owner-only)."""
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key, with its public half as text and its id."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> SigningKey:
        """A key written by ``to_pem``; anything else is one line naming ``where``."""
        private = private_key_from_pem(pem, where, "a signing key")
        if not isinstance(private, Ed25519PrivateKey):
            raise InvalidInput(f"{where} holds a key that is not Ed25519")
        return cls(private)

    def to_pem(self) -> bytes:
        return private_key_pem(self.private)

    @property
    def public_key(self) -> str:
        return base64.b64encode(_raw(self.private.public_key())).decode("ascii")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(_raw(self.private.public_key())).hexdigest()

    def sign(self, message: bytes) -> str:
        """The signature of ``message``, as base64."""
        return base64.b64encode(self.private.sign(message)).decode("ascii")
