"""Private models' keys on this machine: where the Executor gets one, and the owner's store.

A private model (``core.sealed_models``) runs only once its archive is unsealed with the
model's key. The Executor asks a :class:`ModelKeySource` for it, just before the task:

- the model owner's own machine holds every key it made at registration
  (:class:`OwnerModelKeys`, a file per model, readable by that account only)::

      <home>/keys/<username>/model-keys/<sealed hash>.key    the raw 32-byte key

- a site gets the key wrapped to its own encryption key by the model owner and released
  by the server only while its association is approved (``client.released_model_keys``).

Neither source keeps a key anywhere else; a source that has no key says so in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from medval.client.settings import ClientSettings
from medval.client.signing import key_folder
from medval.core.errors import KeyReleaseRefused
from medval.core.private_files import replace_private
from medval.core.schemas import CubePublic

KEY_FOLDER = "model-keys"
KEY_BYTES = 32  # AES-256


class ModelKeySource(Protocol):
    """Where a private model's key comes from on this machine."""

    def key_for(self, cube: CubePublic) -> bytes:
        """The model's key; one line (``KeyReleaseRefused`` or another ``MedvalError``)
        when this machine may not have it."""
        ...


class NoModelKeys:
    """A machine that holds no model's key: every private model is refused in one line."""

    def key_for(self, cube: CubePublic) -> bytes:
        raise KeyReleaseRefused(
            f"model {cube.name} is private and no key for it was released to this machine"
        )


def model_key_path(settings: ClientSettings, username: str, sealed_hash: str) -> Path:
    return key_folder(settings, username) / KEY_FOLDER / f"{sealed_hash}.key"


def save_model_key(settings: ClientSettings, username: str, sealed_hash: str, key: bytes) -> Path:
    """Keep a model's key readable by this account only (folders 0700, the file 0600)."""
    path = model_key_path(settings, username, sealed_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in (path.parent.parent.parent, path.parent.parent, path.parent):
        folder.chmod(0o700)
    return replace_private(path, key)


def load_model_key(settings: ClientSettings, username: str, sealed_hash: str) -> bytes | None:
    path = model_key_path(settings, username, sealed_hash)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(key) != KEY_BYTES:
        raise KeyReleaseRefused(f"{path} is not a model key ({len(key)} bytes, not {KEY_BYTES})")
    return key


class OwnerModelKeys:
    """The keys this account made when it registered its private models, kept here."""

    def __init__(self, settings: ClientSettings, username: str) -> None:
        self.settings = settings
        self.username = username

    def key_for(self, cube: CubePublic) -> bytes:
        if cube.sealed is None:
            raise KeyReleaseRefused(f"model {cube.name} is not private: it has no key")
        key = load_model_key(self.settings, self.username, cube.sealed.sealed_hash)
        if key is None:
            raise KeyReleaseRefused(
                f"no key for model {cube.name} on this machine for {self.username}"
            )
        return key
