"""Sealing a private model's archive: it opens only with its key, as itself, unchanged."""

from __future__ import annotations

import pytest

from medval.core.errors import HashMismatch, InvalidInput
from medval.core.hashing import sha256_bytes
from medval.trust.model_sealing import (
    HEADER,
    KEY_BYTES,
    NONCE_BYTES,
    generate_model_key,
    seal_archive,
    unseal_archive,
)

ARCHIVE = b"weights: canary-0123456789\n" * 50
CLEAR = sha256_bytes(ARCHIVE)
WHAT = "cube tiny-model"
REFUSED = (
    "cube tiny-model: the sealed archive does not open with this key (the wrong key, "
    "or ciphertext changed since it was sealed)"
)


def test_a_sealed_archive_opens_with_its_key_as_it_was() -> None:
    key = generate_model_key()
    sealed = seal_archive(ARCHIVE, key, CLEAR)
    assert sealed.startswith(HEADER)
    assert b"canary" not in sealed
    assert unseal_archive(sealed, key, CLEAR, WHAT) == ARCHIVE


def test_every_seal_has_a_fresh_nonce_and_every_key_is_fresh() -> None:
    key = generate_model_key()
    assert len(key) == KEY_BYTES and key != generate_model_key()
    first, second = seal_archive(ARCHIVE, key, CLEAR), seal_archive(ARCHIVE, key, CLEAR)
    nonce = slice(len(HEADER), len(HEADER) + NONCE_BYTES)
    assert first[nonce] != second[nonce]
    assert first != second


@pytest.mark.parametrize("position", [0, len(HEADER), len(HEADER) + NONCE_BYTES, -1])
def test_one_changed_byte_anywhere_is_refused_in_one_line(position: int) -> None:
    key = generate_model_key()
    sealed = bytearray(seal_archive(ARCHIVE, key, CLEAR))
    sealed[position] ^= 0x01
    with pytest.raises(HashMismatch) as refused:
        unseal_archive(bytes(sealed), key, CLEAR, WHAT)
    if position == 0:
        assert str(refused.value) == f"{WHAT}: not a sealed archive (no MVSEAL header)"
    else:
        assert str(refused.value) == REFUSED
    assert refused.value.exit_code == 6


def test_the_wrong_key_is_refused_in_one_line() -> None:
    sealed = seal_archive(ARCHIVE, generate_model_key(), CLEAR)
    with pytest.raises(HashMismatch) as refused:
        unseal_archive(sealed, generate_model_key(), CLEAR, WHAT)
    assert str(refused.value) == REFUSED


def test_a_ciphertext_cannot_be_passed_off_as_another_models() -> None:
    """Same key, same bytes: opened as another archive (another clear hash), it is refused."""
    key = generate_model_key()
    sealed = seal_archive(ARCHIVE, key, CLEAR)
    with pytest.raises(HashMismatch) as refused:
        unseal_archive(sealed, key, sha256_bytes(b"another model"), WHAT)
    assert str(refused.value) == REFUSED


def test_a_truncated_or_unknown_version_is_refused() -> None:
    key = generate_model_key()
    sealed = seal_archive(ARCHIVE, key, CLEAR)
    with pytest.raises(HashMismatch, match="does not open with this key"):
        unseal_archive(sealed[: len(HEADER) + 3], key, CLEAR, WHAT)
    later = sealed[: len(HEADER) - 1] + bytes([2]) + sealed[len(HEADER) :]
    with pytest.raises(HashMismatch) as refused:
        unseal_archive(later, key, CLEAR, WHAT)
    assert (
        str(refused.value) == f"{WHAT}: sealed with format version 2, this medval opens version 1"
    )


def test_a_key_of_the_wrong_size_is_one_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        seal_archive(ARCHIVE, b"short", CLEAR)
    assert str(refused.value) == "a model key is 32 bytes, not 5"
