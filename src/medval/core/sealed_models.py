"""A private model: its archive stored sealed (encrypted), and how its key may be released.

A model registered with ``--private`` is uploaded only as ciphertext. The server pins both
forms: ``CubeCreate.archive_hash`` is the hash of the archive in clear (what a site checks
after decrypting it, the same pin as any cube's) and :class:`SealedArchive.sealed_hash`
the hash of the ciphertext (the only blob the server holds). The model's key never
reaches the server in clear: it travels wrapped to each approved site's public
encryption key, released through the verifier its owner chose
(:class:`KeyReleaseVerifierKind`; ``medval.trust.key_release``). Imports only pydantic
and ``core``.
"""

from __future__ import annotations

from enum import StrEnum

from medval.core.errors import InvalidInput
from medval.core.gpus import GpuNeed
from medval.core.schema_types import Schema, Sha256

__all__ = ["KeyReleaseVerifierKind", "SealedArchive"]


class KeyReleaseVerifierKind(StrEnum):
    """How a model's key may reach a site; chosen by the model's owner, per model."""

    NONE = "none"  # to the sites whose association was approved
    ATTESTED = "attested"  # only against attestation evidence a verifier accepts

    @classmethod
    def parse(cls, text: str) -> KeyReleaseVerifierKind:
        """The kind named by ``text``; anything else is one line (exit 2)."""
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise InvalidInput(f"unknown key-release verifier {text!r} (known: {known})") from None


class SealedArchive(Schema):
    """How a private model's archive (and image) is held: the ciphertexts' hashes, the
    verifier through which its key is released to a site, and what its spec declares
    about GPUs, recorded
    in clear at registration so that ``cube show`` can say it without the key (None for a
    model registered before it was recorded). A site still reads the GPU need from the
    unsealed spec itself before a run."""

    sealed_hash: Sha256
    key_release: KeyReleaseVerifierKind = KeyReleaseVerifierKind.NONE
    gpu: GpuNeed | None = None
    # The ciphertext of its container image archive, sealed under the same key (the
    # cube's ``image_archive_hash`` is the archive in clear, checked after unsealing);
    # None for a model without an image (or registered before images were sealed, whose
    # image the server holds as it is).
    image_sealed_hash: Sha256 | None = None
