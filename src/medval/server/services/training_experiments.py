"""Training experiments: registration with its cubes, plan, aggregator and CA; the
admin's approval; its auto-approval rule; the final model it produced.

An experiment is seen by its owner (the training owner), its aggregator's owner and
admins, and, once approved, by every logged-in account (data owners decide from it
whether to join). It is registered pending, with a CA of its own made by the server
(``medval.training.ca``): the CA's key stays in the store, never in a record. An admin
approves it as a benchmark is approved; then its aggregator may be certified and sites
may ask to join (``training_associations``).
"""

from __future__ import annotations

from medval.core.errors import InvalidTransition
from medval.core.membership_schemas import AutoApprovalRule
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import ApprovalStatus, CubeKind, Stage, check_approval_move
from medval.core.training_schemas import TrainingExperimentCreate
from medval.server.services.aggregators import existing_aggregator
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import cube_of_kind
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import (
    is_owner_or_admin,
    not_found,
    require_admin,
    require_owner,
    require_owner_or_admin,
)
from medval.server.services.validity import require_valid_cube
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import CubeRecord, TrainingExperimentRecord, UserRecord
from medval.training.ca import new_experiment_ca


def is_party(caller: UserRecord, experiment: TrainingExperimentRecord) -> bool:
    """The training owner, the aggregator's owner, or an admin."""
    return is_owner_or_admin(caller, experiment.owner_id) or (
        caller.id == experiment.aggregator_owner_id
    )


def can_see_experiment(caller: UserRecord, experiment: TrainingExperimentRecord) -> bool:
    return is_party(caller, experiment) or experiment.approval is ApprovalStatus.APPROVED


def visible_experiment(
    tx: StoreTransaction, caller: UserRecord, experiment_id: int
) -> TrainingExperimentRecord:
    experiment = tx.training_experiment(experiment_id)
    if experiment is None or not can_see_experiment(caller, experiment):
        raise not_found("training experiment", experiment_id)
    return experiment


def _experiment_cubes(
    tx: StoreTransaction, caller: UserRecord, preparator_id: int, training_cube_id: int
) -> list[CubeRecord]:
    return [
        cube_of_kind(tx, caller, preparator_id, CubeKind.DATA_PREPARATOR, "data_preparator_id"),
        cube_of_kind(tx, caller, training_cube_id, CubeKind.TRAINING, "training_cube_id"),
    ]


def require_experiment_runs(tx: StoreTransaction, experiment: TrainingExperimentRecord) -> None:
    """Nothing new starts under an experiment whose cubes were invalidated."""
    for cube_id in (experiment.data_preparator_id, experiment.training_cube_id):
        cube = tx.cube(cube_id)
        if cube is not None:
            require_valid_cube(cube)


def register_experiment(
    ctx: ServiceContext, caller: UserRecord, body: TrainingExperimentCreate
) -> TrainingExperimentRecord:
    """Register an experiment, pending an admin's approval, with a new CA of its own."""
    with ctx.transaction(caller) as tx:
        existing_aggregator(tx, body.aggregator_id)
        cubes = _experiment_cubes(tx, caller, body.data_preparator_id, body.training_cube_id)
        for cube in cubes:
            require_valid_cube(cube)
        drafts = [c.name for c in cubes if c.stage is not Stage.OPERATION]
        if drafts:
            raise InvalidTransition(
                f"training experiment {body.name} cannot use cubes in development: "
                f"{', '.join(drafts)}; move them to operation first"
            )
        ca = new_experiment_ca(body.name)
        return tx.add_training_experiment(
            caller.id, body, ca.cert_pem.decode("ascii"), ca.key_pem.decode("ascii"), ctx.clock()
        )


def get_experiment(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int
) -> TrainingExperimentRecord:
    with ctx.store.transaction() as tx:
        return visible_experiment(tx, caller, experiment_id)


def list_experiments(
    ctx: ServiceContext, caller: UserRecord, name: str | None, page: PageRequest = EVERYTHING
) -> Page[TrainingExperimentRecord]:
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_training_experiments(name, after=after, limit=n),
            by_id,
            lambda e: can_see_experiment(caller, e),
        )


def decide_experiment(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, status: ApprovalStatus
) -> TrainingExperimentRecord:
    """The admin's decision, as for a benchmark; an approval covers cubes still valid."""
    require_admin(caller)
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        check_approval_move(f"training experiment {experiment.name}", experiment.approval, status)
        if status is ApprovalStatus.APPROVED:
            require_experiment_runs(tx, experiment)
        return tx.set_training_approval(experiment.id, status)


def set_auto_approval(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, rule: AutoApprovalRule
) -> TrainingExperimentRecord:
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        what = f"training experiment {experiment.name}"
        require_owner_or_admin(caller, experiment.owner_id, what)
        return tx.set_training_auto_approval(experiment.id, rule)


def set_final_model(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, model_id: int
) -> TrainingExperimentRecord:
    """The training owner names the model cube the experiment produced: a model of
    theirs, valid, in operation. Named once: it is the experiment's outcome on record."""
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        what = f"training experiment {experiment.name}"
        require_owner(caller, experiment.owner_id, what, "name its final model")
        if experiment.approval is not ApprovalStatus.APPROVED:
            raise InvalidTransition(
                f"{what} is {experiment.approval.value}; it has trained nothing"
            )
        if experiment.final_model_id is not None:
            raise InvalidTransition(
                f"{what} already has its final model (cube {experiment.final_model_id})"
            )
        model = cube_of_kind(tx, caller, model_id, CubeKind.MODEL, "model_id")
        require_owner(caller, model.owner_id, f"model {model.name}", "name it a final model")
        require_valid_cube(model)
        if model.stage is not Stage.OPERATION:
            raise InvalidTransition(f"model {model.name} is in development; move it to operation")
        return tx.set_final_model(experiment.id, model.id)
