"""``attested`` key release on the server: a private model's owner pins what may hold its
key, a site asks for a nonce, and its evidence is checked against the pins.

The verifier is ``medval.trust.attestation.AttestedVerifier``; here are its pins, read
from the store, and its nonces, kept in the database (``StoredNonces``) so that every
process of a server spends each nonce once. A nonce is issued only to a site approved to
run the model (an unapproved account gets one line), for five minutes, and is spent in
the transaction that releases the site's wrapped key: a release refused for any reason
(a wrong measurement, no key wrapped for the site) spends nothing.

**No TEE runs on the machines medval is built on**: the evidence is medval's stand-in for
a hardware report, signed by the key the owner pinned (``docs/confidential-computing.md``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from medval.core.attestation_schemas import AttestationPinsCreate
from medval.core.errors import InvalidInput, KeyReleaseRefused, NotFound
from medval.core.sealed_models import KeyReleaseVerifierKind
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.model_keys import approved_recipients
from medval.server.services.permissions import require_owner
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    AttestationNonceRecord,
    AttestationPinsRecord,
    CubeRecord,
    UserRecord,
)
from medval.trust.attestation import (
    AttestationPins,
    AttestedVerifier,
    IssuedNonce,
    check_nonce,
    nonce_replayed,
)
from medval.trust.key_release import (
    KeyReleaseRequest,
    SiteNotApproved,
    refusal,
)

NONCE_LIFETIME = timedelta(minutes=5)


def _attested_model(tx: StoreTransaction, caller: UserRecord, cube_id: int) -> CubeRecord:
    """A private model, visible to the caller, whose key is released ``attested``."""
    cube = visible_cube(tx, caller, cube_id)
    if cube.sealed is None:
        raise InvalidInput(f"model {cube.name} is not private: it has no key to attest for")
    if cube.sealed.key_release is not KeyReleaseVerifierKind.ATTESTED:
        raise InvalidInput(
            f"model {cube.name} releases its key to approved sites (key release "
            f"{cube.sealed.key_release}), not against attestation evidence"
        )
    return cube


def pin_attestation(
    ctx: ServiceContext, caller: UserRecord, cube_id: int, body: AttestationPinsCreate
) -> AttestationPinsRecord:
    """The model's owner pins (or pins again) what may hold its key."""
    with ctx.transaction(caller) as tx:
        model = _attested_model(tx, caller, cube_id)
        require_owner(caller, model.owner_id, f"model {model.name}", "pin its attestation")
        return tx.put_attestation_pins(model.id, body, ctx.clock())


def attestation_pins(
    ctx: ServiceContext, caller: UserRecord, cube_id: int
) -> AttestationPinsRecord:
    """A model's pins, to anyone who may see the model."""
    with ctx.store.transaction() as tx:
        model = _attested_model(tx, caller, cube_id)
        pins = tx.attestation_pins(model.id)
    if pins is None:
        raise NotFound(
            f"model {model.name} has no attestation pins yet; its owner pins them with "
            "'medval model attestation pin'"
        )
    return pins


def issue_nonce(ctx: ServiceContext, caller: UserRecord, cube_id: int) -> AttestationNonceRecord:
    """A fresh nonce for the caller's evidence about the model, if the caller is a site
    approved to run it."""
    with ctx.transaction(caller) as tx:
        model = _attested_model(tx, caller, cube_id)
        if caller.id not in approved_recipients(tx, model):
            raise refusal(
                SiteNotApproved, f"site {caller.username} is not approved for model {model.id}"
            )
        now = ctx.clock()
        return tx.add_attestation_nonce(
            model.id, caller.id, secrets.token_hex(32), now, now + NONCE_LIFETIME
        )


class StoredNonces:
    """``Nonces`` in the store: each issued to one site for one model, spent once by a
    conditional UPDATE (another process spending it first makes this a replay)."""

    def __init__(self, tx: StoreTransaction, caller: UserRecord) -> None:
        self.tx = tx
        self.caller = caller

    def spend(self, nonce: str, request: KeyReleaseRequest, now: datetime) -> None:
        stored = self.tx.attestation_nonce(nonce)
        issued = None
        if stored is not None:
            site = self.tx.user(stored.recipient_id)
            issued = IssuedNonce(
                model_id=stored.model_id,
                site=site.username if site is not None else f"user {stored.recipient_id}",
                expires_at=stored.expires_at,
                spent=stored.spent_at is not None,
            )
        check_nonce(nonce, issued, request, now)
        if not self.tx.spend_attestation_nonce(nonce, now):
            raise nonce_replayed(nonce)  # another process spent it since it was read


def attested_verifier(
    tx: StoreTransaction, caller: UserRecord, model: CubeRecord
) -> AttestedVerifier:
    """The verifier of an ``attested`` model, on its pins and the stored nonces."""
    pins = tx.attestation_pins(model.id)
    if pins is None:
        raise refusal(
            KeyReleaseRefused,
            f"model {model.id} releases its key only against attestation evidence, and "
            "its owner has pinned no measurement yet ('medval model attestation pin')",
        )
    pinned = AttestationPins(
        model_id=model.id,
        measurement=pins.measurement,
        launch_policy=pins.launch_policy,
        signing_public_key=pins.signing_public_key,
        window=timedelta(seconds=pins.window_seconds),
    )
    return AttestedVerifier(pinned, StoredNonces(tx, caller))
