"""Registering a private model: its archive sealed here, its key kept here, only the
ciphertext uploaded.

``medval model register --private`` packs the model as any cube, then seals the archive
with a fresh key (``medval.trust.model_sealing``), keeps the key in the owner's store
(``client.model_keys``) *before* anything is uploaded (an upload cut short never leaves
a ciphertext on the server whose key is lost), and uploads the sealed blob only. The
server pins both hashes: the archive in clear (``archive_hash``, what a site checks
after unsealing) and the ciphertext (``sealed.sealed_hash``). The clear archive never
leaves this machine.

What is sealed is the cube's archive (its spec, code, parameters and additional files,
where MedPerf cubes keep their weights) and its container image archive, if it has one
(weights baked into the image's layers), each under the same key and bound to its own
hash in clear: the server pins ``image_archive_hash`` (in clear, what a site checks
after unsealing) and ``sealed.image_sealed_hash`` (the ciphertext it holds).
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


def image_sealed_line(name: str) -> str:
    return (
        f"note: model {name} is private: its container image is sealed too (a site loads "
        "it in clear only for its runs, and removes what it loaded after)"
    )


def private_line(cube: CubePublic) -> str:
    """What ``cube show`` says of a private model instead of reading its spec (its GPU need,
    as recorded at registration, follows: ``core.gpus.gpu_lines``)."""
    assert cube.sealed is not None
    return (
        f"model {cube.name} is private: its archive is sealed (key release: "
        f"{cube.sealed.key_release.value}); its spec is read only where its key is, before it runs"
    )


class Sealer:
    """One private model's fresh key: its archive sealed and the key kept first (so no
    sealed blob of it is ever on the server keyless), then its image and its archive
    uploaded sealed, the ciphertext only."""

    def __init__(self, client: MedvalClient, private: Privately) -> None:
        self.client = client
        self.private = private
        self._key = generate_model_key()
        self._archive = b""
        self._sealed_hash = ""
        self._image_sealed_hash: str | None = None

    def seal_archive(self, archive: bytes, clear_hash: str) -> None:
        """Seal the cube's archive and keep the key (nothing is uploaded yet)."""
        self._archive = seal_archive(archive, self._key, clear_hash)
        self._sealed_hash = sha256_bytes(self._archive)
        self.private.keep_key(self._sealed_hash, self._key)

    def upload_image(self, archive: Path, clear_hash: str) -> None:
        """Seal the image archive (read whole: sealing is one authenticated message) and
        upload the ciphertext."""
        assert self._sealed_hash, "the archive is sealed, and the key kept, first"
        sealed = seal_archive(archive.read_bytes(), self._key, clear_hash)
        self._image_sealed_hash = sha256_bytes(sealed)
        self.client.upload_blob(self._image_sealed_hash, sealed, "sealed image archive")

    def upload_archive(self, gpu: GpuNeed) -> SealedArchive:
        """Upload the sealed archive; how it is held (``gpu``, what its spec declares,
        recorded in clear)."""
        self.client.upload_blob(self._sealed_hash, self._archive, "sealed model archive")
        return SealedArchive(
            sealed_hash=self._sealed_hash,
            key_release=self.private.key_release,
            gpu=gpu,
            image_sealed_hash=self._image_sealed_hash,
        )
