"""Wrapping a model key to a site's encryption key: only that site unwraps it, for that
model only, and a changed byte is refused in one line."""

from __future__ import annotations

import base64
import os

import pytest

from medval.core.errors import InvalidInput, KeyReleaseRefused
from medval.trust.key_wrapping import (
    WRAPPED_KEY_BYTES,
    EncryptionKey,
    encryption_key_id,
    wrap_model_key,
)

SEALED = "a" * 64
MODEL_KEY = os.urandom(32)


def test_the_site_it_was_wrapped_to_unwraps_it() -> None:
    site = EncryptionKey.generate()
    wrapped = wrap_model_key(MODEL_KEY, site.public_key, SEALED)
    assert len(base64.b64decode(wrapped)) == WRAPPED_KEY_BYTES
    assert site.unwrap(wrapped, SEALED) == MODEL_KEY
    assert encryption_key_id(site.public_key) == site.key_id


def test_another_site_cannot_unwrap_it() -> None:
    site, other = EncryptionKey.generate(), EncryptionKey.generate()
    wrapped = wrap_model_key(MODEL_KEY, site.public_key, SEALED)
    with pytest.raises(KeyReleaseRefused) as refused:
        other.unwrap(wrapped, SEALED)
    assert str(refused.value) == (
        f"the wrapped model key does not open with encryption key {other.key_id[:16]}: "
        "it was wrapped to another key or for another model, or changed"
    )
    assert refused.value.exit_code == 16


def test_a_key_wrapped_for_another_model_is_refused() -> None:
    site = EncryptionKey.generate()
    wrapped = wrap_model_key(MODEL_KEY, site.public_key, SEALED)
    with pytest.raises(KeyReleaseRefused, match=r"for another model, or changed$"):
        site.unwrap(wrapped, "b" * 64)


@pytest.mark.parametrize("where", [0, 31, 32, 50, WRAPPED_KEY_BYTES - 1])
def test_a_changed_byte_is_refused_in_one_line(where: int) -> None:
    site = EncryptionKey.generate()
    raw = bytearray(base64.b64decode(wrap_model_key(MODEL_KEY, site.public_key, SEALED)))
    raw[where] ^= 0x01
    with pytest.raises(KeyReleaseRefused) as refused:
        site.unwrap(base64.b64encode(bytes(raw)).decode(), SEALED)
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith("the wrapped model key does not open")


def test_a_truncated_or_garbled_wrapped_key_is_one_line() -> None:
    site = EncryptionKey.generate()
    wrapped = wrap_model_key(MODEL_KEY, site.public_key, SEALED)
    for bad in (wrapped[:-8], "not base64!", ""):
        with pytest.raises(KeyReleaseRefused) as refused:
            site.unwrap(bad, SEALED)
        assert str(refused.value) == "the wrapped model key is not 80 bytes of base64"


def test_the_private_key_survives_pem_and_a_wrong_file_is_one_line() -> None:
    site = EncryptionKey.generate()
    again = EncryptionKey.from_pem(site.to_pem(), "key.pem")
    assert again.key_id == site.key_id
    with pytest.raises(InvalidInput) as bad:
        EncryptionKey.from_pem(b"nonsense", "key.pem")
    assert str(bad.value) == "key.pem does not hold an encryption key (PEM, PKCS #8)"


def test_only_a_32_byte_key_is_wrapped_and_only_to_a_public_key() -> None:
    site = EncryptionKey.generate()
    with pytest.raises(InvalidInput, match=r"^a model key is 32 bytes, not 16$"):
        wrap_model_key(b"x" * 16, site.public_key, SEALED)
    with pytest.raises(InvalidInput, match=r"^public_key: not an X25519 public key"):
        wrap_model_key(MODEL_KEY, "AAAA", SEALED)
