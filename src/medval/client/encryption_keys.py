"""The data owner's encryption key on this machine, and its registration on the server.

Each account has its own X25519 key here, made on first login beside its signing key
(``ensure_encryption_key``) and registered on the server; model owners wrap their private
models' keys to its public half (``medval.trust.key_wrapping``)::

    <home>/keys/<username>/encryption-key.pem    the private key (PKCS #8 PEM)

The file is 0600 and both folders 0700, as for the signing key (``client.signing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings
from medval.client.signing import key_folder
from medval.core.errors import KeyReleaseRefused
from medval.core.private_files import replace_private
from medval.trust.key_wrapping import EncryptionKey

KEY_FILE = "encryption-key.pem"


def encryption_key_path(settings: ClientSettings, username: str) -> Path:
    return key_folder(settings, username) / KEY_FILE


def load_encryption_key(settings: ClientSettings, username: str) -> EncryptionKey | None:
    path = encryption_key_path(settings, username)
    if not path.is_file():
        return None
    return EncryptionKey.from_pem(path.read_bytes(), str(path))


def require_encryption_key(settings: ClientSettings, username: str) -> EncryptionKey:
    """This account's key on this machine, or one line saying how to make it (exit 16:
    without it no model key can be opened here)."""
    key = load_encryption_key(settings, username)
    if key is None:
        raise KeyReleaseRefused(
            f"no encryption key for {username} on this machine; run 'medval login' to make one"
        )
    return key


def save_encryption_key(settings: ClientSettings, username: str, key: EncryptionKey) -> Path:
    """Write the key readable by this account only, replacing any key before it in one step."""
    path = encryption_key_path(settings, username)
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in (path.parent.parent, path.parent):
        folder.chmod(0o700)
    return replace_private(path, key.to_pem())


@dataclass(frozen=True)
class EncryptionKeySetup:
    key: EncryptionKey
    made: bool  # made now
    registered: bool  # registered now (it was new to the server)


def ensure_encryption_key(
    client: MedvalClient, settings: ClientSettings, username: str
) -> EncryptionKeySetup:
    """This account's key: made when there is none here (or the server retired the one
    here: another machine registered its own since; model owners wrap to the new one on
    their next sync), registered when the server does not hold it as the current one."""
    key = load_encryption_key(settings, username)
    known = {k.key_id: k for k in client.model_keys.my_encryption_keys()}
    held = known.get(key.key_id) if key is not None else None
    made = key is None or (held is not None and held.retired_at is not None)
    if key is None or made:
        key = EncryptionKey.generate()
        held = None
    registered = held is None
    if registered:
        client.model_keys.register_encryption_key(key.public_key)
    if made:
        save_encryption_key(settings, username, key)
    return EncryptionKeySetup(key, made, registered)
