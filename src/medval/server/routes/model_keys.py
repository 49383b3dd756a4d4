"""Private models' keys: sites' encryption keys, model keys wrapped to them, their release
and its attestation (thin: ``services.encryption_keys``, ``services.model_keys``,
``services.key_release``, ``services.attestation``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.attestation_schemas import (
    AttestationNoncePublic,
    AttestationPinsCreate,
    AttestationPinsPublic,
    KeyReleaseEvidence,
)
from medval.core.model_key_schemas import (
    EncryptionKeyCreate,
    EncryptionKeyPublic,
    ModelKeyRecipient,
    WrappedModelKeyCreate,
    WrappedModelKeyPublic,
)
from medval.core.schemas import Id, Name
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import attestation, encryption_keys, key_release, model_keys

router = APIRouter(tags=["model keys"], route_class=DocumentedRoute)


@router.get(api.MY_ENCRYPTION_KEYS)
def my_encryption_keys(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep
) -> Sequence[EncryptionKeyPublic]:
    """Oldest first."""
    return pager.send(encryption_keys.my_encryption_keys(ctx, user, pager.page))


@router.post(api.MY_ENCRYPTION_KEYS, status_code=201, responses=errors(409))
def register_encryption_key(
    ctx: ContextDep, user: CurrentUser, body: EncryptionKeyCreate
) -> EncryptionKeyPublic:
    return encryption_keys.register_encryption_key(ctx, user, body)


@router.get(api.MODEL_KEY_RECIPIENTS, responses=errors(403, 404))
def key_recipients(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> list[ModelKeyRecipient]:
    """The model's owner only: the approved sites and where each stands with its key."""
    return model_keys.key_recipients(ctx, user, cube_id)


@router.put(api.MODEL_KEY_GRANT, responses=errors(403, 404, 409))
def grant_model_key(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, username: Name, body: WrappedModelKeyCreate
) -> WrappedModelKeyPublic:
    return model_keys.grant_model_key(ctx, user, cube_id, username, body)


@router.delete(api.MODEL_KEY_GRANT, responses=errors(403, 404))
def withhold_model_key(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, username: Name
) -> ModelKeyRecipient:
    return model_keys.withhold_model_key(ctx, user, cube_id, username)


@router.get(api.RELEASED_MODEL_KEY, responses=errors(403, 404))
def released_model_key(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> WrappedModelKeyPublic:
    """The caller's own wrapped key, released while its association is approved."""
    return key_release.released_model_key(ctx, user, cube_id)


@router.post(api.RELEASED_MODEL_KEY, responses=errors(403, 404))
def released_model_key_for_evidence(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, body: KeyReleaseEvidence
) -> WrappedModelKeyPublic:
    """The same, against attestation evidence (a model whose key is released
    ``attested``); the evidence's nonce is spent only if the key is released."""
    return key_release.released_model_key(ctx, user, cube_id, body.evidence.encode())


@router.get(api.ATTESTATION_PINS, responses=errors(404))
def attestation_pins(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> AttestationPinsPublic:
    """What may hold an attested model's key."""
    return attestation.attestation_pins(ctx, user, cube_id)


@router.put(api.ATTESTATION_PINS, responses=errors(403, 404))
def pin_attestation(
    ctx: ContextDep, user: CurrentUser, cube_id: Id, body: AttestationPinsCreate
) -> AttestationPinsPublic:
    """The model's owner pins them (again: they replace the ones before)."""
    return attestation.pin_attestation(ctx, user, cube_id, body)


@router.post(api.ATTESTATION_NONCES, status_code=201, responses=errors(403, 404))
def issue_attestation_nonce(
    ctx: ContextDep, user: CurrentUser, cube_id: Id
) -> AttestationNoncePublic:
    """A single-use nonce for the calling site's evidence, if it is approved."""
    return attestation.issue_nonce(ctx, user, cube_id)
