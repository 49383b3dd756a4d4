"""The API contract of private models' keys: each site's encryption public key, and a
model's key wrapped to it (``medval.trust.key_wrapping``).

A wrapped key is opaque to the server: only the site it was wrapped to can open it. The
server keeps it, lists who holds one, and releases it to that site only while the site's
association is approved (``medval.trust.key_release``). Imports only pydantic and ``core``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from medval.core.schema_types import Name, Schema

# X25519, base64 (RFC 4648, padded): a raw public key (32 bytes); a wrapped model key
# (HPKE's output for a 32-byte key: 80 bytes).
EncryptionPublicKeyText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
WrappedKeyText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{107}=$")]
KeyIdText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ModelKeyState(StrEnum):
    """Where an approved site stands with a private model's key."""

    HELD = "held"  # a wrapped key for the site's current encryption key is on the server
    MISSING = "missing"  # none yet: ``medval model keys sync`` wraps one
    STALE = "stale"  # wrapped to an encryption key the site has since replaced
    WITHHELD = "withheld"  # the model owner withholds it: sync skips the site
    NO_KEY = "no_key"  # the site has no encryption key yet (it logs in once to make one)


class EncryptionKeyCreate(Schema):
    """A site's X25519 public key; its id is computed by the server (the sha256 of it)."""

    public_key: EncryptionPublicKeyText


class EncryptionKeyPublic(Schema):
    """A registered encryption public key. One per account is current (``retired_at``
    None); a new one retires the one before it."""

    key_id: str
    public_key: str
    owner_id: int
    owner: str
    created_at: datetime
    retired_at: datetime | None = None


class WrappedModelKeyCreate(Schema):
    """The model key wrapped by its owner to the recipient's encryption key ``key_id``."""

    key_id: KeyIdText
    wrapped_key: WrappedKeyText


class WrappedModelKeyPublic(Schema):
    """A model's key wrapped to one site's encryption key ``key_id``: only that site can
    open it. Withheld by the model's owner (``withheld``): no key, nor key id."""

    model_id: int
    recipient: str
    key_id: str | None
    wrapped_key: str | None
    withheld: bool = False
    created_at: datetime


class ModelKeyRecipient(Schema):
    """A site approved to run a private model (a dataset of it has an approved association
    with a benchmark where the model is approved), its current encryption key (if any)
    and where it stands with the model's key."""

    recipient: Name
    recipient_id: int
    key_id: str | None
    public_key: str | None
    state: ModelKeyState
