"""A site's encryption key pair, and a private model's key wrapped to its public half.

A data owner's machine holds an X25519 key pair for receiving model keys (separate from
its Ed25519 signing key: one key, one purpose). The model owner wraps the model's raw
32-byte key to a site's public key; only that site's private key unwraps it.

The construction is HPKE (RFC 9180), base mode, as the ``cryptography`` package ships
it (``cryptography.hazmat.primitives.hpke``, in 50.x): DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM. We use the library's construction rather than composing one
of our own (ECDH + KDF + AEAD by hand), and X25519 keys are made in microseconds, unlike
RSA-OAEP's 3072-bit keys, so every login may make one. The HPKE ``info`` binds a wrapped
key to the model's sealed archive and to the recipient's key id: a wrapped key moved to
another model's or another site's row does not unwrap.

A public key travels as base64 of its 32 raw bytes; its id is the sha256 (hex) of those
bytes, as for signing keys. A wrapped key travels as base64 of HPKE's output (the
encapsulated key, 32 bytes, then the ciphertext with its tag: 80 bytes for a 32-byte key).
Imports only ``medval.core`` and ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from medval.core.errors import InvalidInput, KeyReleaseRefused
from medval.trust.keys import private_key_from_pem, private_key_pem

__all__ = [
    "MODEL_KEY_BYTES",
    "WRAPPED_KEY_BYTES",
    "EncryptionKey",
    "encryption_key_id",
    "public_key_from_text",
    "unwrap_model_key",
    "wrap_model_key",
]

MODEL_KEY_BYTES = 32  # AES-256, as ``client.model_keys``
WRAPPED_KEY_BYTES = 32 + MODEL_KEY_BYTES + 16  # HPKE's encapsulated key, ciphertext, tag
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
_INFO = b"medval model key v1"


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _info(sealed_hash: str, recipient_key_id: str) -> bytes:
    return b"\x00".join((_INFO, sealed_hash.encode("ascii"), recipient_key_id.encode("ascii")))


def public_key_from_text(public_key: str) -> X25519PublicKey:
    """An encryption public key from base64 of its 32 raw bytes; anything else is one line."""
    try:
        raw = base64.b64decode(public_key.encode("ascii"), validate=True)
        public = X25519PublicKey.from_public_bytes(raw)
        # A low-order point (all zeros...) would give every wrapping the same shared
        # secret; the exchange refuses it, so it is refused here, at registration.
        X25519PrivateKey.generate().exchange(public)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidInput("public_key: not an X25519 public key (base64 of 32 bytes)") from exc
    return public


def encryption_key_id(public_key: str) -> str:
    """The id of an encryption public key given as text: the sha256 of its raw bytes."""
    return hashlib.sha256(_raw(public_key_from_text(public_key))).hexdigest()


def wrap_model_key(model_key: bytes, public_key: str, sealed_hash: str) -> str:
    """``model_key`` wrapped to ``public_key`` (base64 text) for the model whose sealed
    archive is ``sealed_hash``; base64 text."""
    if len(model_key) != MODEL_KEY_BYTES:
        raise InvalidInput(f"a model key is {MODEL_KEY_BYTES} bytes, not {len(model_key)}")
    info = _info(sealed_hash, encryption_key_id(public_key))
    wrapped = _SUITE.encrypt(model_key, public_key_from_text(public_key), info=info)
    return base64.b64encode(wrapped).decode("ascii")


@dataclass(frozen=True)
class EncryptionKey:
    """A site's private X25519 key, with its public half as text and its id."""

    private: X25519PrivateKey

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> EncryptionKey:
        """A key written by ``to_pem``; anything else is one line naming ``where``."""
        private = private_key_from_pem(pem, where, "an encryption key")
        if not isinstance(private, X25519PrivateKey):
            raise InvalidInput(f"{where} holds a key that is not X25519")
        return cls(private)

    def to_pem(self) -> bytes:
        return private_key_pem(self.private)

    @property
    def public_key(self) -> str:
        return base64.b64encode(_raw(self.private.public_key())).decode("ascii")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(_raw(self.private.public_key())).hexdigest()

    def unwrap(self, wrapped: str, sealed_hash: str) -> bytes:
        return unwrap_model_key(self, wrapped, sealed_hash)


def unwrap_model_key(key: EncryptionKey, wrapped: str, sealed_hash: str) -> bytes:
    """The model key inside ``wrapped``; a wrapped key that is not for this key and this
    model, or was changed by one byte, is one line (``KeyReleaseRefused``, exit 16)."""
    try:
        raw = base64.b64decode(wrapped.encode("ascii"), validate=True)
    except (ValueError, UnicodeError, binascii.Error):
        raw = b""
    if len(raw) != WRAPPED_KEY_BYTES:
        raise KeyReleaseRefused(f"the wrapped model key is not {WRAPPED_KEY_BYTES} bytes of base64")
    try:
        return _SUITE.decrypt(raw, key.private, info=_info(sealed_hash, key.key_id))
    except InvalidTag:
        raise KeyReleaseRefused(
            f"the wrapped model key does not open with encryption key {key.key_id[:16]}: "
            "it was wrapped to another key or for another model, or changed"
        ) from None
