"""A site's source of private models' keys: its own wrapped key, released by the server
while its association is approved (for a model released ``attested``, against evidence
over a fresh nonce: ``client.attestation_evidence``), opened with this machine's
encryption key.

Nothing is kept: the key is fetched and unwrapped just before the task that needs it, so
a revocation on the server stops every new run. A missing key, a revoked site or a key
wrapped to another machine's key is one line (``KeyReleaseRefused``, exit 16).
"""

from __future__ import annotations

from medval.client.attestation_evidence import evidence_for
from medval.client.encryption_keys import require_encryption_key
from medval.client.http import MedvalClient
from medval.client.model_keys import ModelKeySource, OwnerModelKeys
from medval.client.settings import ClientSettings
from medval.core.errors import KeyReleaseRefused
from medval.core.schemas import CubePublic
from medval.core.sealed_models import KeyReleaseVerifierKind


class ReleasedModelKeys:
    """``ModelKeySource`` of a data owner: the key released to it by the server."""

    def __init__(self, client: MedvalClient, settings: ClientSettings, username: str) -> None:
        self.client = client
        self.settings = settings
        self.username = username

    def key_for(self, cube: CubePublic) -> bytes:
        if cube.sealed is None:
            raise KeyReleaseRefused(f"model {cube.name} is not private: it has no key")
        key = require_encryption_key(self.settings, self.username)
        evidence = None
        if cube.sealed.key_release is KeyReleaseVerifierKind.ATTESTED:
            nonce = self.client.model_keys.attestation_nonce(cube.id).nonce
            evidence = evidence_for(self.settings, cube, nonce)
        released = self.client.model_keys.released(cube.id, evidence)
        if released.wrapped_key is None or released.key_id != key.key_id:
            raise KeyReleaseRefused(
                f"the key of model {cube.name} was wrapped to another encryption key than "
                f"this machine's ({key.key_id[:16]}); its owner wraps it again with "
                "'medval model keys sync'"
            )
        return key.unwrap(released.wrapped_key, cube.sealed.sealed_hash)


class MachineModelKeys:
    """What a logged-in account's machine uses: the owner's own store for its own models,
    the released key for anyone else's."""

    def __init__(self, client: MedvalClient, settings: ClientSettings, username: str) -> None:
        self.owner = OwnerModelKeys(settings, username)
        self.released = ReleasedModelKeys(client, settings, username)
        self.username = username

    def key_for(self, cube: CubePublic) -> bytes:
        source: ModelKeySource = self.owner if cube.owner == self.username else self.released
        return source.key_for(cube)
