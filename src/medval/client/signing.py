"""The data owner's signing key on this machine, and its registration on the server.

Each account has its own Ed25519 key here, made on first login (``ensure_signing_key``)
and registered on the server, which keeps every public key an account ever had::

    <home>/keys/<username>/signing-key.pem    the private key (PKCS #8 PEM)

The file is 0600 and both folders 0700, set explicitly whatever the umask (and whatever
they were before). ``rotate`` makes a new key, registers it (the server retires the old
one) and only then replaces the file; results signed by the old key stay verifiable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings
from medval.core.errors import InvalidInput, NotAuthenticated
from medval.core.private_files import replace_private
from medval.core.schemas import Name, SigningKeyPublic
from medval.trust.keys import SigningKey

KEY_FILE = "signing-key.pem"


def key_folder(settings: ClientSettings, username: str) -> Path:
    try:
        TypeAdapter(Name).validate_python(username)
    except ValidationError as exc:  # it becomes a folder name: one safe component only
        raise InvalidInput(f"{username!r} is not a username") from exc
    return settings.home / "keys" / username


def key_path(settings: ClientSettings, username: str) -> Path:
    return key_folder(settings, username) / KEY_FILE


def load_signing_key(settings: ClientSettings, username: str) -> SigningKey | None:
    path = key_path(settings, username)
    if not path.is_file():
        return None
    return SigningKey.from_pem(path.read_bytes(), str(path))


def require_signing_key(settings: ClientSettings, username: str) -> SigningKey:
    """This account's key on this machine, or one line saying how to make it."""
    key = load_signing_key(settings, username)
    if key is None:
        raise NotAuthenticated(
            f"no signing key for {username} on this machine; run 'medval login' to make one"
        )
    return key


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for each in (folder.parent, folder):
        each.chmod(0o700)


def save_signing_key(settings: ClientSettings, username: str, key: SigningKey) -> Path:
    """Write the key readable by this account only, replacing any key before it in one step."""
    path = key_path(settings, username)
    _private_folder(path.parent)
    return replace_private(path, key.to_pem())


@dataclass(frozen=True)
class KeySetup:
    """This machine's key and how the server holds it."""

    key: SigningKey
    registered: SigningKeyPublic | None  # None: the server holds it retired (see note)
    made: bool  # made now
    note: str | None = None


def ensure_signing_key(client: MedvalClient, settings: ClientSettings, username: str) -> KeySetup:
    """This account's key: made when there is none here, registered when the server does
    not know it. A key here that the server retired is kept, with a note to rotate."""
    key = load_signing_key(settings, username)
    made = key is None
    if key is None:
        key = SigningKey.generate()
    found = next((k for k in client.my_signing_keys() if k.key_id == key.key_id), None)
    if found is None:
        found = client.register_signing_key(key.public_key)
    if made:
        save_signing_key(settings, username, key)
    if found.retired_at is not None:
        note = (
            f"this machine's signing key {key.key_id[:16]} was retired on the server; "
            "run 'medval keys rotate' before uploading results"
        )
        return KeySetup(key, None, made, note)
    return KeySetup(key, found, made)


def rotate(
    client: MedvalClient, settings: ClientSettings, username: str
) -> tuple[str | None, SigningKeyPublic]:
    """A new key, registered (the old one is retired on the server) before it replaces
    the old one here; returns the old key's id (None: there was none here) and the new."""
    old = load_signing_key(settings, username)
    new = SigningKey.generate()
    registered = client.register_signing_key(new.public_key)
    save_signing_key(settings, username, new)
    return (old.key_id if old else None), registered
