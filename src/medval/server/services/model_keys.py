"""A private model's key, wrapped to each approved site: who may hold it, granting and
withholding it, and deleting it when a site is no longer approved (releasing it to a
site: ``services.key_release``).

The server never sees a model key in clear: its owner's client wraps it to each site's
encryption key (``medval.trust.key_wrapping``) and puts the wrapped key here. A site is a
*recipient* of a model while it owns a dataset with an approved association to a
benchmark where the model is approved (or is the reference model). A wrapped key is
released only to its recipient, through the verifier the model's owner chose
(``services.key_release``); revoking an association deletes the wrapped keys of the
sites that are no longer recipients, and so does invalidating a model, a dataset or a
benchmark, in the same transaction, so no new run starts. Every grant, withholding and
deletion is in the audit log (the store logs them).
"""

from __future__ import annotations

from medval.core.errors import InvalidInput, InvalidTransition, NotFound
from medval.core.model_key_schemas import ModelKeyRecipient, ModelKeyState, WrappedModelKeyCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.permissions import require_owner
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    AssociationRecord,
    CubeRecord,
    EncryptionKeyRecord,
    UserRecord,
    WrappedModelKeyRecord,
)

_MANAGE = "share its key"


def private_model(tx: StoreTransaction, cube_id: int) -> CubeRecord:
    """A cube that exists and is a private model (not its caller's business yet)."""
    cube = tx.cube(cube_id)
    if cube is None:
        raise NotFound(f"cube {cube_id} does not exist")
    if cube.kind is not CubeKind.MODEL or cube.sealed is None:
        raise InvalidInput(f"model {cube.name} is not private: it has no key to share")
    return cube


def _owned_private_model(tx: StoreTransaction, caller: UserRecord, cube_id: int) -> CubeRecord:
    cube = visible_cube(tx, caller, cube_id)
    require_owner(caller, cube.owner_id, f"model {cube.name}", _MANAGE)
    return private_model(tx, cube_id)


def approved_recipients(tx: StoreTransaction, model: CubeRecord) -> set[int]:
    """The accounts owning a valid dataset with an approved association to a valid
    benchmark where ``model`` (valid itself) is approved (or its reference model). Read
    at every release: an invalidation stops the release at once, even before a
    revocation deletes anything."""
    if model.invalidated_at is not None:
        return set()
    benchmark_ids = {
        a.benchmark_id
        for a in tx.list_associations(
            kind=AssociationKind.MODEL, status=ApprovalStatus.APPROVED, entity_id=model.id
        )
    }
    benchmark_ids |= {b.id for b in tx.list_benchmarks() if b.reference_model_id == model.id}
    owners: set[int] = set()
    for benchmark_id in sorted(benchmark_ids):
        benchmark = tx.benchmark(benchmark_id)
        if benchmark is None or benchmark.invalidated_at is not None:
            continue
        datasets = tx.list_associations(
            benchmark_id=benchmark_id, kind=AssociationKind.DATASET, status=ApprovalStatus.APPROVED
        )
        for association in datasets:
            dataset = tx.dataset(association.entity_id)
            if dataset is not None and dataset.invalidated_at is None:
                owners.add(association.entity_owner_id)
    return owners


def _state(held: WrappedModelKeyRecord | None, key: EncryptionKeyRecord | None) -> ModelKeyState:
    if held is not None and held.withheld:
        return ModelKeyState.WITHHELD
    if key is None:
        return ModelKeyState.NO_KEY
    if held is None:
        return ModelKeyState.MISSING
    return ModelKeyState.HELD if held.key_id == key.key_id else ModelKeyState.STALE


def _recipient(
    tx: StoreTransaction, user_id: int, held: WrappedModelKeyRecord | None
) -> ModelKeyRecipient:
    user = tx.user(user_id)
    if user is None:  # accounts are never deleted
        raise NotFound(f"user {user_id} does not exist")
    key = tx.current_encryption_key(user_id)
    return ModelKeyRecipient(
        recipient=user.username,
        recipient_id=user_id,
        key_id=key.key_id if key else None,
        public_key=key.public_key if key else None,
        state=_state(held, key),
    )


def key_recipients(
    ctx: ServiceContext, caller: UserRecord, cube_id: int
) -> list[ModelKeyRecipient]:
    """The model's owner only: every approved site (and any site it withholds the key
    from), by account id, with its encryption key and where it stands."""
    with ctx.store.transaction() as tx:
        model = _owned_private_model(tx, caller, cube_id)
        rows = {row.recipient_id: row for row in tx.list_wrapped_model_keys(model.id)}
        withheld = {user_id for user_id, row in rows.items() if row.withheld}
        return [
            _recipient(tx, user_id, rows.get(user_id))
            for user_id in sorted(approved_recipients(tx, model) | withheld)
        ]


def _user(tx: StoreTransaction, username: str) -> UserRecord:
    user = tx.user_by_name(username)
    if user is None:
        raise NotFound(f"user {username} does not exist")
    return user


def grant_model_key(
    ctx: ServiceContext,
    caller: UserRecord,
    cube_id: int,
    username: str,
    body: WrappedModelKeyCreate,
) -> WrappedModelKeyRecord:
    """The model's owner puts the key wrapped to an approved site's current encryption
    key (a withholding of that site ends here)."""
    with ctx.transaction(caller) as tx:
        model = _owned_private_model(tx, caller, cube_id)
        site = _user(tx, username)
        if site.id not in approved_recipients(tx, model):
            raise InvalidTransition(
                f"{username} is not approved to run model {model.name}: no dataset of theirs "
                "has an approved association with a benchmark where the model is approved"
            )
        key = tx.current_encryption_key(site.id)
        if key is None:
            raise InvalidTransition(
                f"{username} has no encryption key yet; it is made when they log in"
            )
        if key.key_id != body.key_id:
            raise InvalidTransition(
                f"encryption key {body.key_id[:16]} is not {username}'s current key "
                f"({key.key_id[:16]}); run 'medval model keys sync' again"
            )
        return tx.put_wrapped_model_key(
            model.id, site.id, key.key_id, body.wrapped_key, ctx.clock()
        )


def withhold_model_key(
    ctx: ServiceContext, caller: UserRecord, cube_id: int, username: str
) -> ModelKeyRecipient:
    """The model's owner withholds its key from a site: its wrapped key is deleted, and
    ``sync`` skips the site until the owner grants it again."""
    with ctx.transaction(caller) as tx:
        model = _owned_private_model(tx, caller, cube_id)
        site = _user(tx, username)
        held = tx.withhold_model_key(model.id, site.id, ctx.clock())
        return _recipient(tx, site.id, held)


def _models_of_benchmarks(tx: StoreTransaction, benchmark_ids: set[int]) -> set[int]:
    """Every model approved on these benchmarks, and their reference models."""
    model_ids: set[int] = set()
    for benchmark_id in benchmark_ids:
        model_ids |= {
            a.entity_id
            for a in tx.list_associations(
                benchmark_id=benchmark_id,
                kind=AssociationKind.MODEL,
                status=ApprovalStatus.APPROVED,
            )
        }
        benchmark = tx.benchmark(benchmark_id)
        if benchmark is not None:
            model_ids.add(benchmark.reference_model_id)
    return model_ids


def models_touched_by_association(tx: StoreTransaction, association: AssociationRecord) -> set[int]:
    """The models whose recipients a change of ``association`` may change: the model
    itself, or every model of its benchmark."""
    if association.kind is AssociationKind.MODEL:
        return {association.entity_id}
    return _models_of_benchmarks(tx, {association.benchmark_id})


def models_touched_by_dataset(tx: StoreTransaction, dataset_id: int) -> set[int]:
    """The models of every benchmark the dataset is (or was) associated with."""
    benchmark_ids = {
        a.benchmark_id
        for a in tx.list_associations(kind=AssociationKind.DATASET, entity_id=dataset_id)
    }
    return _models_of_benchmarks(tx, benchmark_ids)


def models_touched_by_benchmark(tx: StoreTransaction, benchmark_id: int) -> set[int]:
    return _models_of_benchmarks(tx, {benchmark_id})


def forget_unapproved_sites(tx: StoreTransaction, model_ids: set[int]) -> int:
    """Delete the wrapped keys of these models (the private ones) held by a site that is
    no longer a recipient; how many were deleted. In the transaction of the revocation or
    invalidation that made them so, so no new run starts and no key lingers."""
    deleted = 0
    for model_id in sorted(model_ids):
        model = tx.cube(model_id)
        if model is None or model.sealed is None:
            continue
        approved = approved_recipients(tx, model)
        gone = {
            row.recipient_id
            for row in tx.list_wrapped_model_keys(model.id)
            if row.recipient_id not in approved
        }
        deleted += tx.delete_wrapped_model_keys(model.id, gone)
    return deleted
