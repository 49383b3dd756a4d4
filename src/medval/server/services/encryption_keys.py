"""Encryption keys: each site registers its X25519 public key, to which model owners wrap
their private models' keys (``model_keys``).

As for signing keys: registering a key makes it the account's current one and retires
the one before it; keys are never deleted. A model key wrapped to a retired key is
``stale``: the model's owner wraps it again to the current one (``medval model keys sync``).
"""

from __future__ import annotations

from medval.core.errors import Conflict
from medval.core.model_key_schemas import EncryptionKeyCreate
from medval.core.paging import EVERYTHING, PageRequest
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.store.records import EncryptionKeyRecord, UserRecord
from medval.trust.key_wrapping import encryption_key_id


def register_encryption_key(
    ctx: ServiceContext, caller: UserRecord, body: EncryptionKeyCreate
) -> EncryptionKeyRecord:
    """The caller's new current key (the same key again is returned as it is)."""
    new_id = encryption_key_id(body.public_key)
    with ctx.transaction(caller) as tx:
        known = tx.encryption_key(new_id)
        if known is not None:
            if known.owner_id != caller.id:
                raise Conflict(f"encryption key {new_id[:16]} is registered to another account")
            if known.retired_at is not None:
                raise Conflict(
                    f"encryption key {new_id[:16]} was retired; a retired key is never used again"
                )
            return known
        return tx.add_encryption_key(caller.id, new_id, body.public_key, ctx.clock())


def my_encryption_keys(
    ctx: ServiceContext, caller: UserRecord, page: PageRequest = EVERYTHING
) -> Page[EncryptionKeyRecord]:
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_encryption_keys(caller.id, after=after, limit=n),
            by_id,
        )
