"""Training associations: a dataset asks to join a training experiment; the training
owner decides. The same states, moves and history as a benchmark's associations
(``associations``), with the site's node key, and the same membership rules: the
experiment's auto-approval rule (``membership.approves_at_request``) and the dataset
owner's data policy (``medval.trust.data_policy``), in which the training owner stands
where a model owner stands for a benchmark, and the training cube where the model does.

Only the dataset's owner asks (not an admin for them: it is the site's consent), with the
public key of the SuperNode that will train on the dataset, checked with
``medval.training.ca``. A rejected or revoked association reopens on a new request, with
the key it then sends. Who sees one: the dataset's owner, the training owner, admins.
"""

from __future__ import annotations

from datetime import date

from medval.core.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from medval.core.membership_schemas import DataPolicy
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import ApprovalStatus, Stage, check_association_move
from medval.core.training_schemas import TrainingAssociationCreate
from medval.server.services.approval import check_decision, require_decision, require_reopenable
from medval.server.services.context import ServiceContext
from medval.server.services.datasets import visible_dataset
from medval.server.services.membership import approves_at_request
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_owner,
    require_owner_or_admin,
)
from medval.server.services.training_experiments import (
    require_experiment_runs,
    visible_experiment,
)
from medval.server.services.validity import require_valid_dataset
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    TrainingAssociationRecord,
    TrainingExperimentRecord,
    UserRecord,
)
from medval.training.ca import check_node_public_key
from medval.trust.data_policy import Execution, refusal, require_allowed

_ASK = "ask for it to join a training experiment"


def training_runs(
    tx: StoreTransaction, experiment: TrainingExperimentRecord, dataset_id: int
) -> int:
    """How many times the experiment's training cube has trained on the dataset before:
    the dataset's other experiments with the same training cube whose association was
    ever approved. A data policy's ``max_runs`` counts these."""
    runs = 0
    for association in tx.list_training_associations(dataset_id=dataset_id):
        if association.experiment_id == experiment.id:
            continue
        other = tx.training_experiment(association.experiment_id)
        approved = any(e.status is ApprovalStatus.APPROVED for e in association.history)
        if other is not None and other.training_cube_id == experiment.training_cube_id and approved:
            runs += 1
    return runs


def policy_refusal(
    tx: StoreTransaction,
    experiment: TrainingExperimentRecord,
    dataset_id: int,
    policy: DataPolicy,
    today: date,
) -> str | None:
    """The clause of the dataset owner's policy that refuses this experiment, or None."""
    execution = Execution(
        experiment.training_cube_id,
        experiment.owner,
        dataset_id,
        training_runs(tx, experiment, dataset_id),
    )
    return refusal(policy, execution, today)


def _require_takes_sites(tx: StoreTransaction, experiment: TrainingExperimentRecord) -> None:
    if experiment.approval is not ApprovalStatus.APPROVED:
        raise InvalidTransition(
            f"training experiment {experiment.name} is {experiment.approval.value}; "
            "only an approved experiment takes sites"
        )
    require_experiment_runs(tx, experiment)


def _require_key_free(
    tx: StoreTransaction, experiment: TrainingExperimentRecord, key: str, dataset_id: int
) -> None:
    for other in tx.list_training_associations(experiment_id=experiment.id):
        if other.node_public_key == key and other.dataset_id != dataset_id:
            raise Conflict(
                f"this node key is already dataset {other.dataset}'s on training experiment "
                f"{experiment.name}; make a key for each dataset"
            )


def request_association(
    ctx: ServiceContext, caller: UserRecord, body: TrainingAssociationCreate
) -> TrainingAssociationRecord:
    """A new request, or a request again after a rejection or a revocation."""
    key = check_node_public_key(body.node_public_key)
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, body.experiment_id)
        _require_takes_sites(tx, experiment)
        dataset = visible_dataset(tx, caller, body.dataset_id)
        require_owner(caller, dataset.owner_id, f"dataset {dataset.name}", _ASK)
        require_valid_dataset(dataset)
        if dataset.stage is not Stage.OPERATION:
            raise InvalidTransition(
                f"dataset {dataset.name} is in development; move it to operation first"
            )
        if dataset.data_preparator_id != experiment.data_preparator_id:
            raise InvalidInput(
                f"dataset {dataset.name} was prepared with cube {dataset.data_preparator_id}, "
                f"but training experiment {experiment.name} prepares data with cube "
                f"{experiment.data_preparator_id}"
            )
        _require_key_free(tx, experiment, key, dataset.id)
        existing = tx.list_training_associations(experiment_id=experiment.id, dataset_id=dataset.id)
        now = ctx.clock()
        if not existing:
            requested = tx.add_training_association(experiment.id, dataset.id, key, caller.id, now)
        else:
            association = existing[0]
            require_reopenable(
                association.status,
                f"dataset {dataset.name}",
                f"training experiment {experiment.name}",
                association.id,
            )
            requested = tx.reopen_training_association(association.id, key, caller.id, now)
        if not approves_at_request(experiment, caller):
            return requested
        if policy_refusal(tx, experiment, dataset.id, requested.policy, now.date()) is not None:
            return requested  # the dataset's own terms refuse it: the owner must decide
        return tx.decide_training_association(
            requested.id, ApprovalStatus.APPROVED, experiment.owner_id, now, automatic=True
        )


def decide_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int, status: ApprovalStatus
) -> TrainingAssociationRecord:
    """The training owner's (or an admin's) decision; never the requester's approval."""
    require_decision(status)
    with ctx.transaction(caller) as tx:
        association = visible_association(tx, caller, association_id)
        experiment = _experiment_of(tx, association)
        what = f"the association of dataset {association.dataset}"
        owner = f"training experiment {experiment.name}"
        require_owner_or_admin(caller, experiment.owner_id, owner)
        check_decision(what, association.status, status, association.initiated_by_id, caller)
        if status is ApprovalStatus.APPROVED:
            dataset = tx.dataset(association.dataset_id)
            if dataset is not None:
                require_valid_dataset(dataset)
            _require_takes_sites(tx, experiment)
            execution = Execution(
                experiment.training_cube_id,
                experiment.owner,
                association.dataset_id,
                training_runs(tx, experiment, association.dataset_id),
            )
            require_allowed(association.policy, execution, ctx.clock().date())
        return tx.decide_training_association(association.id, status, caller.id, ctx.clock())


def revoke_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int
) -> TrainingAssociationRecord:
    """Either side withdraws (the training owner, the dataset's owner, an admin): the
    site's node is no longer admitted (``training_nodes``); its past rounds stay."""
    with ctx.transaction(caller) as tx:
        association = visible_association(tx, caller, association_id)
        what = f"the association of dataset {association.dataset}"
        check_association_move(what, association.status, ApprovalStatus.REVOKED)
        return tx.decide_training_association(
            association.id, ApprovalStatus.REVOKED, caller.id, ctx.clock()
        )


def set_policy(
    ctx: ServiceContext, caller: UserRecord, association_id: int, policy: DataPolicy
) -> TrainingAssociationRecord:
    """The dataset's owner, and only they (these are the site's terms), sets the policy."""
    with ctx.transaction(caller) as tx:
        association = visible_association(tx, caller, association_id)
        if association.dataset_owner_id != caller.id:
            raise PermissionDenied(
                f"only the owner of dataset {association.dataset} may set its policy"
            )
        return tx.set_training_association_policy(association.id, policy)


def _experiment_of(
    tx: StoreTransaction, association: TrainingAssociationRecord
) -> TrainingExperimentRecord:
    experiment = tx.training_experiment(association.experiment_id)
    if experiment is None:  # cascade-deleted with it: never seen
        raise not_found("training association", association.id)
    return experiment


def _can_see(
    tx: StoreTransaction, caller: UserRecord, association: TrainingAssociationRecord
) -> bool:
    if is_owner_or_admin(caller, association.dataset_owner_id):
        return True
    experiment = tx.training_experiment(association.experiment_id)
    return experiment is not None and experiment.owner_id == caller.id


def visible_association(
    tx: StoreTransaction, caller: UserRecord, association_id: int
) -> TrainingAssociationRecord:
    association = tx.training_association(association_id)
    if association is None or not _can_see(tx, caller, association):
        raise not_found("training association", association_id)
    return association


def get_association(
    ctx: ServiceContext, caller: UserRecord, association_id: int
) -> TrainingAssociationRecord:
    with ctx.store.transaction() as tx:
        return visible_association(tx, caller, association_id)


def list_associations(
    ctx: ServiceContext,
    caller: UserRecord,
    experiment_id: int | None,
    dataset_id: int | None,
    status: ApprovalStatus | None,
    page: PageRequest = EVERYTHING,
) -> Page[TrainingAssociationRecord]:
    """The training associations the caller is party to."""
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_training_associations(
                experiment_id, dataset_id, status, after=after, limit=n
            ),
            by_id,
            lambda a: _can_see(tx, caller, a),
        )
