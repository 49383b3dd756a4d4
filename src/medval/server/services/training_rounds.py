"""Round metrics of a training experiment: aggregated ones, and each site's own.

The aggregator's owner reports each round's metrics aggregated across sites; everyone
who sees the experiment sees them. A dataset's owner reports their site's own metrics of
a round; only they, the training owner and admins see them (a site's figures are its
own, as per-site results are in evaluation). A round already recorded is answered with
what is recorded when sent again alike (a restarted reporter is no error), and refused
when it differs: what was reported stays as it was.
"""

from __future__ import annotations

from medval.core.errors import Conflict, InvalidInput, InvalidTransition
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import RoundMetricsCreate, SiteRoundMetricsCreate
from medval.server.services.aggregators import existing_aggregator
from medval.server.services.context import ServiceContext
from medval.server.services.datasets import visible_dataset
from medval.server.services.paging import Page, visible_page
from medval.server.services.permissions import is_owner_or_admin, not_found, require_owner
from medval.server.services.training_experiments import visible_experiment
from medval.server.store.records import (
    RoundMetricsRecord,
    SiteRoundMetricsRecord,
    TrainingExperimentRecord,
    UserRecord,
)


def _require_round_of(experiment: TrainingExperimentRecord, round_number: int) -> None:
    if experiment.approval is not ApprovalStatus.APPROVED:
        raise InvalidTransition(
            f"training experiment {experiment.name} is {experiment.approval.value}; it has "
            "no rounds"
        )
    if round_number > experiment.plan.rounds:
        raise InvalidInput(
            f"round {round_number} is past the plan of training experiment {experiment.name} "
            f"({experiment.plan.rounds} rounds)"
        )


def report_round(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, body: RoundMetricsCreate
) -> RoundMetricsRecord:
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        aggregator = existing_aggregator(tx, experiment.aggregator_id)
        require_owner(caller, aggregator.owner_id, f"aggregator {aggregator.name}", "report rounds")
        _require_round_of(experiment, body.round)
        for recorded in tx.list_training_rounds(experiment.id):
            if recorded.round == body.round:
                if recorded.metrics == body.metrics:
                    return recorded
                raise Conflict(
                    f"round {body.round} of training experiment {experiment.name} is already "
                    "recorded, with other metrics"
                )
        return tx.add_training_round(experiment.id, body, caller.id, ctx.clock())


def list_rounds(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, page: PageRequest = EVERYTHING
) -> Page[RoundMetricsRecord]:
    """By round."""
    with ctx.store.transaction() as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        return visible_page(
            page,
            lambda after, n: tx.list_training_rounds(experiment.id, after=after, limit=n),
            lambda r: (r.round,),
        )


def report_site_round(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, body: SiteRoundMetricsCreate
) -> SiteRoundMetricsRecord:
    """The dataset's owner, for a dataset that was approved to join (and may have left)."""
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        dataset = visible_dataset(tx, caller, body.dataset_id)
        require_owner(caller, dataset.owner_id, f"dataset {dataset.name}", "report its rounds")
        _require_round_of(experiment, body.round)
        joined = tx.list_training_associations(experiment_id=experiment.id, dataset_id=dataset.id)
        if not any(e.status is ApprovalStatus.APPROVED for a in joined for e in a.history):
            raise InvalidTransition(
                f"dataset {dataset.name} was never approved to join training experiment "
                f"{experiment.name}"
            )
        for recorded in tx.list_site_training_rounds(experiment.id, dataset.id):
            if recorded.round == body.round:
                if recorded.metrics == body.metrics:
                    return recorded
                raise Conflict(
                    f"round {body.round} of dataset {dataset.name} on training experiment "
                    f"{experiment.name} is already recorded, with other metrics"
                )
        return tx.add_site_training_round(experiment.id, body, caller.id, ctx.clock())


def list_site_rounds(
    ctx: ServiceContext,
    caller: UserRecord,
    experiment_id: int,
    dataset_id: int | None = None,
    page: PageRequest = EVERYTHING,
) -> Page[SiteRoundMetricsRecord]:
    """Every site's for the training owner and admins; one's own datasets' for others.
    Asked for one dataset's, by anyone else than its owner, the training owner or an admin:
    refused, as a dataset that does not exist (a site's figures are its own). By round,
    then dataset."""
    with ctx.store.transaction() as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        if dataset_id is not None:
            dataset = tx.dataset(dataset_id)
            # Refused as if missing (as a dataset that is not one's own is refused when
            # reported for), so that ids leak nothing.
            if dataset is None or not (
                is_owner_or_admin(caller, experiment.owner_id) or dataset.owner_id == caller.id
            ):
                raise not_found("dataset", dataset_id)
        everyone = is_owner_or_admin(caller, experiment.owner_id)
        return visible_page(
            page,
            lambda after, n: tx.list_site_training_rounds(
                experiment.id, dataset_id, after=after, limit=n
            ),
            lambda r: (r.round, r.dataset_id),
            lambda r: everyone or r.dataset_owner_id == caller.id,
        )
