"""Signing keys: each account registers its Ed25519 public keys; results are checked
against them on upload.

Registering a key makes it the account's current one and retires the one before it
(rotation). Keys are never deleted: a retired key still verifies what it signed, in the
API and in an export bundle. An upload must be signed by the uploader's current key.
"""

from __future__ import annotations

from datetime import datetime

from medval.core.errors import Conflict, NotFound, SignatureInvalid
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import SigningKeyCreate
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import SigningKeyRecord, UserRecord
from medval.trust.keys import key_id
from medval.trust.signed_result import signature_verifies


def register_signing_key(
    ctx: ServiceContext, caller: UserRecord, body: SigningKeyCreate
) -> SigningKeyRecord:
    """The caller's new current key (the same key again is returned as it is)."""
    new_id = key_id(body.public_key)
    with ctx.transaction(caller) as tx:
        known = tx.signing_key(new_id)
        if known is not None:
            if known.owner_id != caller.id:
                raise Conflict(f"signing key {new_id[:16]} is registered to another account")
            if known.retired_at is not None:
                raise Conflict(
                    f"signing key {new_id[:16]} was retired; a retired key is never used again"
                )
            return known
        return tx.add_signing_key(caller.id, new_id, body.public_key, ctx.clock())


def my_signing_keys(
    ctx: ServiceContext, caller: UserRecord, page: PageRequest = EVERYTHING
) -> Page[SigningKeyRecord]:
    with ctx.store.transaction() as tx:
        return visible_page(
            page, lambda after, n: tx.list_signing_keys(caller.id, after=after, limit=n), by_id
        )


def signing_key(ctx: ServiceContext, wanted: str) -> SigningKeyRecord:
    """Any registered key, current or retired: public keys are public."""
    with ctx.store.transaction() as tx:
        found = tx.signing_key(wanted)
    if found is None:
        raise NotFound(f"signing key {wanted[:16]} does not exist")
    return found


def require_signed_by_uploader(
    tx: StoreTransaction, caller: UserRecord, body: ResultCreate, now: datetime
) -> None:
    """The upload is signed, over its content, by the caller's current key."""
    short = body.key_id[:16]
    key = tx.signing_key(body.key_id)
    if key is None:
        raise SignatureInvalid(f"signing key {short} is not registered; run 'medval login'")
    if key.owner_id != caller.id:
        raise SignatureInvalid(f"signing key {short} is not {caller.username}'s")
    if key.retired_at is not None and key.retired_at <= now:
        raise SignatureInvalid(
            f"signing key {short} was retired; sign with your current key ('medval keys show')"
        )
    if not signature_verifies(body, key.public_key):
        raise SignatureInvalid(f"the signature does not match the result's content (key {short})")
