"""Routes of training experiments: registration, approval, auto-approval, the CA and the
aggregator's certificate, the nodes to admit, the final model, and round metrics."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.membership_schemas import AutoApprovalRule
from medval.core.schemas import Decision, Id, Name
from medval.core.training_schemas import (
    AggregatorCertificatePublic,
    CertificateRequest,
    FinalModel,
    RoundMetricsCreate,
    RoundMetricsPublic,
    SiteRoundMetricsCreate,
    SiteRoundMetricsPublic,
    TrainingCAPublic,
    TrainingExperimentCreate,
    TrainingExperimentPublic,
    TrainingNodePublic,
)
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import training_experiments, training_rounds, training_trust

router = APIRouter(tags=["training"], route_class=DocumentedRoute)


@router.post(api.TRAININGS, status_code=201, responses=errors(404, 409))
def register_experiment(
    ctx: ContextDep, user: CurrentUser, body: TrainingExperimentCreate
) -> TrainingExperimentPublic:
    """Pending an admin's approval; the server makes the experiment's CA."""
    return training_experiments.register_experiment(ctx, user, body)


@router.get(api.TRAININGS)
def list_experiments(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, name: Name | None = None
) -> Sequence[TrainingExperimentPublic]:
    return pager.send(training_experiments.list_experiments(ctx, user, name, pager.page))


@router.get(api.TRAINING, responses=errors(404))
def get_experiment(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id
) -> TrainingExperimentPublic:
    return training_experiments.get_experiment(ctx, user, experiment_id)


@router.put(api.TRAINING_APPROVAL, responses=errors(403, 404, 409))
def decide(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: Decision
) -> TrainingExperimentPublic:
    return training_experiments.decide_experiment(ctx, user, experiment_id, body.status)


@router.put(api.TRAINING_AUTO_APPROVAL, responses=errors(403, 404))
def set_auto_approval(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: AutoApprovalRule
) -> TrainingExperimentPublic:
    return training_experiments.set_auto_approval(ctx, user, experiment_id, body)


@router.put(api.TRAINING_FINAL_MODEL, responses=errors(403, 404, 409))
def set_final_model(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: FinalModel
) -> TrainingExperimentPublic:
    return training_experiments.set_final_model(ctx, user, experiment_id, body.model_id)


@router.get(api.TRAINING_CA, responses=errors(404))
def get_ca(ctx: ContextDep, user: CurrentUser, experiment_id: Id) -> TrainingCAPublic:
    """The CA's certificate, which sites trust the aggregator by (its key never leaves)."""
    return training_trust.experiment_ca(ctx, user, experiment_id)


@router.post(api.TRAINING_AGGREGATOR_CERTIFICATE, status_code=201, responses=errors(403, 404, 409))
def certify_aggregator(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: CertificateRequest
) -> AggregatorCertificatePublic:
    return training_trust.certify_aggregator(ctx, user, experiment_id, body.csr_pem)


@router.get(api.TRAINING_NODES, responses=errors(403, 404))
def list_nodes(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, experiment_id: Id
) -> Sequence[TrainingNodePublic]:
    """By association id."""
    return pager.send(training_trust.training_nodes(ctx, user, experiment_id, pager.page))


@router.post(api.TRAINING_ROUNDS, status_code=201, responses=errors(403, 404, 409))
def report_round(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: RoundMetricsCreate
) -> RoundMetricsPublic:
    return training_rounds.report_round(ctx, user, experiment_id, body)


@router.get(api.TRAINING_ROUNDS, responses=errors(404))
def list_rounds(
    ctx: ContextDep, user: CurrentUser, pager: PagerDep, experiment_id: Id
) -> Sequence[RoundMetricsPublic]:
    """By round."""
    return pager.send(training_rounds.list_rounds(ctx, user, experiment_id, pager.page))


@router.post(api.TRAINING_SITE_ROUNDS, status_code=201, responses=errors(403, 404, 409))
def report_site_round(
    ctx: ContextDep, user: CurrentUser, experiment_id: Id, body: SiteRoundMetricsCreate
) -> SiteRoundMetricsPublic:
    return training_rounds.report_site_round(ctx, user, experiment_id, body)


@router.get(api.TRAINING_SITE_ROUNDS, responses=errors(404))
def list_site_rounds(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    experiment_id: Id,
    dataset_id: Id | None = None,
) -> Sequence[SiteRoundMetricsPublic]:
    """Only the rounds of the sites the caller may see: their own, or all (training owner);
    asked for one dataset (``dataset_id``) that is not theirs to see: 404, as if missing.
    By round, then dataset."""
    found = training_rounds.list_site_rounds(ctx, user, experiment_id, dataset_id, pager.page)
    return pager.send(found)
