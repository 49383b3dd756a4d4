"""Sealing a private model's archive: authenticated encryption on the owner's machine.

A private model (``core.sealed_models``) leaves its owner's machine only sealed, with
AES-256-GCM (the ``cryptography`` package's ``AESGCM``) under a fresh random key
(:func:`generate_model_key`)::

    MVSEAL 0x01 | nonce (12 random bytes, new for every seal) | ciphertext and 16-byte tag

The associated data binds the ciphertext to the archive's hash in clear (the pin the
server registers as ``archive_hash``): a model's ciphertext cannot be passed off as
another's, even under the same key. Opening fails, in one line, when a single byte of
the header, nonce, ciphertext or tag changed, when the key is not the one it was sealed
with, or when it is opened as another archive: GCM cannot tell these apart, and each is
an archive that does not match what was registered (``HashMismatch``). Imports only
``cryptography`` and ``medval.core``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from medval.core.errors import HashMismatch, InvalidInput

__all__ = ["KEY_BYTES", "generate_model_key", "seal_archive", "unseal_archive"]

MAGIC = b"MVSEAL"
VERSION = 1
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's 96-bit nonce
HEADER = MAGIC + bytes([VERSION])
_ASSOCIATED = b"medval sealed model archive v1; archive sha256 "


def generate_model_key() -> bytes:
    """A fresh 256-bit key from the operating system's random source."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"a model key is {KEY_BYTES} bytes, not {len(key)}")
    return AESGCM(key)


def _associated_data(clear_hash: str) -> bytes:
    return HEADER + _ASSOCIATED + clear_hash.encode("ascii")


def seal_archive(archive: bytes, key: bytes, clear_hash: str) -> bytes:
    """``archive`` sealed under ``key``, bound to its hash in clear ``clear_hash``."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(key).encrypt(nonce, archive, _associated_data(clear_hash))
    return HEADER + nonce + sealed


def unseal_archive(sealed: bytes, key: bytes, clear_hash: str, what: str) -> bytes:
    """The archive in clear, only if ``sealed`` opens under ``key`` as the archive whose
    hash in clear is ``clear_hash``; one line (``HashMismatch``) otherwise. The caller
    still checks the clear archive's hash against its pin."""
    aead = _aead(key)
    if not sealed.startswith(MAGIC):
        raise HashMismatch(f"{what}: not a sealed archive (no {MAGIC.decode()} header)")
    if sealed[: len(HEADER)] != HEADER:
        raise HashMismatch(
            f"{what}: sealed with format version {sealed[len(MAGIC)]}, "
            f"this medval opens version {VERSION}"
        )
    start = len(HEADER)
    nonce, body = sealed[start : start + NONCE_BYTES], sealed[start + NONCE_BYTES :]
    try:
        return aead.decrypt(nonce, body, _associated_data(clear_hash))
    except (InvalidTag, ValueError):
        raise HashMismatch(
            f"{what}: the sealed archive does not open with this key (the wrong key, "
            "or ciphertext changed since it was sealed)"
        ) from None
