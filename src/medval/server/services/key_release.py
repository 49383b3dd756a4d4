"""Releasing a private model's wrapped key to a site, through the verifier its owner chose
(``medval.trust.key_release``): ``none``, to every approved site; ``attested``, to an
approved site whose evidence the model's pins accept (``services.attestation``).

Everything is decided in one transaction: whether the site is approved, what the
verifier says, and whether a key is wrapped for it. Any refusal is one line (exit 16,
HTTP 403) and rolls back, so a nonce is spent only by a release that gives a key.
"""

from __future__ import annotations

from medval.core.errors import KeyReleaseRefused
from medval.core.sealed_models import KeyReleaseVerifierKind
from medval.server.services.attestation import attested_verifier
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.model_keys import approved_recipients, private_model
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import CubeRecord, UserRecord, WrappedModelKeyRecord
from medval.trust.key_release import (
    REFUSED,
    ApprovedSitesVerifier,
    KeyReleaseRequest,
    KeyReleaseVerifier,
    refusal,
)


def _verifier(tx: StoreTransaction, caller: UserRecord, model: CubeRecord) -> KeyReleaseVerifier:
    assert model.sealed is not None  # a private model
    if model.sealed.key_release is KeyReleaseVerifierKind.ATTESTED:
        return attested_verifier(tx, caller, model)
    return ApprovedSitesVerifier()


def released_model_key(
    ctx: ServiceContext, caller: UserRecord, cube_id: int, evidence: bytes | None = None
) -> WrappedModelKeyRecord:
    """The caller's own wrapped key of the model, released through the model's verifier
    (with ``evidence``, for ``attested``) while the caller is an approved site;
    otherwise one line (exit 16) and no key."""
    with ctx.transaction(caller) as tx:
        visible_cube(tx, caller, cube_id)
        model = private_model(tx, cube_id)
        request = KeyReleaseRequest(
            model_id=model.id,
            site=caller.username,
            site_approved=caller.id in approved_recipients(tx, model),
            evidence=evidence,
        )
        _verifier(tx, caller, model).check(request, ctx.clock())
        held = tx.wrapped_model_key(model.id, caller.id)
        if held is not None and held.withheld:
            raise KeyReleaseRefused(
                f"{REFUSED}: the owner of model {model.name} withholds its key from "
                f"{caller.username}"
            )
        if held is None or held.wrapped_key is None:
            raise refusal(
                KeyReleaseRefused,
                f"no key of model {model.name} is wrapped for {caller.username} yet; "
                "its owner wraps one with 'medval model keys sync'",
            )
        return held
