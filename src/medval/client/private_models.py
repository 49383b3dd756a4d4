"""Registering a private model: its archive sealed here, its key kept here, only the
ciphertext uploaded.

``medval model register --private`` packs the model as any cube, then seals the archive
with a fresh key (``medval.trust.model_sealing``), keeps the key in the owner's store
(``client.model_keys``) *before* anything is uploaded (an upload cut short never leaves
a ciphertext on the server whose key is lost), and uploads the sealed blob only. The
server pins both hashes: the archive in clear (``archive_hash``, what a site checks
after unsealing) and the ciphertext (``sealed.sealed_hash``). The clear archive never
leaves this machine.

What is sealed is the cube's archive: its spec, code, parameters and additional files
(where MedPerf cubes keep their weights). A container image is uploaded as it is: weights
baked into an image's layers are not protected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medval.client.http import MedvalClient
from medval.client.model_keys import save_model_key
from medval.client.settings import ClientSettings, require_login
from medval.core.gpus import GpuNeed
from medval.core.hashing import sha256_bytes
from medval.core.schemas import CubePublic
from medval.core.sealed_models import KeyReleaseVerifierKind, SealedArchive
from medval.trust.model_sealing import generate_model_key, seal_archive

KeepKey = Callable[[str, bytes], Path]  # (sealed hash, key) -> where it is kept


@dataclass(frozen=True)
class Privately:
    """How a model is registered private: its key's release, and where its key is kept."""

    key_release: KeyReleaseVerifierKind
    keep_key: KeepKey


def owner_keeps_keys(
    settings: ClientSettings, key_release: KeyReleaseVerifierKind = KeyReleaseVerifierKind.NONE
) -> Privately:
    """Private, the key kept in the logged-in account's own store on this machine."""
    username = require_login(settings).username

    def keep(sealed_hash: str, key: bytes) -> Path:
        return save_model_key(settings, username, sealed_hash, key)

    return Privately(key_release, keep)


def image_not_sealed_line(name: str) -> str:
    return (
        f"note: model {name} is private, but its container image is uploaded as it is, "
        "not sealed: only the cube folder (its additional files, where its weights belong) "
        "is protected"
    )


def private_line(cube: CubePublic) -> str:
    """What ``cube show`` says of a private model instead of reading its spec (its GPU need,
    as recorded at registration, follows: ``core.gpus.gpu_lines``)."""
    assert cube.sealed is not None
    return (
        f"model {cube.name} is private: its archive is sealed (key release: "
        f"{cube.sealed.key_release.value}); its spec is read only where its key is, before it runs"
    )


def upload_sealed(
    client: MedvalClient, archive: bytes, clear_hash: str, private: Privately, gpu: GpuNeed
) -> SealedArchive:
    """Seal ``archive`` with a fresh key, keep the key, upload the ciphertext only;
    ``gpu``, what its spec declares, is recorded in clear."""
    key = generate_model_key()
    sealed = seal_archive(archive, key, clear_hash)
    sealed_hash = sha256_bytes(sealed)
    private.keep_key(sealed_hash, key)  # before the upload: a sealed blob is never keyless
    client.upload_blob(sealed_hash, sealed, "sealed model archive")
    return SealedArchive(sealed_hash=sealed_hash, key_release=private.key_release, gpu=gpu)
