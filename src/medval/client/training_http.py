"""The HTTP calls of federated training, one short method each, grouped apart from
``MedvalClient``'s own: ``client.training.experiments()``. They go through the client's
one request method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.core import api
from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.schemas import Decision
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    AggregatorCertificatePublic,
    AggregatorCreate,
    AggregatorPublic,
    CertificateRequest,
    FinalModel,
    RoundMetricsCreate,
    RoundMetricsPublic,
    SiteRoundMetricsCreate,
    SiteRoundMetricsPublic,
    TrainingAssociationCreate,
    TrainingAssociationPublic,
    TrainingCAPublic,
    TrainingExperimentCreate,
    TrainingExperimentPublic,
    TrainingNodePublic,
)

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class TrainingCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    # --- aggregators ------------------------------------------------------------------

    def register_aggregator(self, body: AggregatorCreate) -> AggregatorPublic:
        return self._client.call(AggregatorPublic, "POST", api.AGGREGATORS, body=body)

    def aggregators(self, name: str | None = None) -> list[AggregatorPublic]:
        params = {"name": name}
        return self._client.call(list[AggregatorPublic], "GET", api.AGGREGATORS, params=params)

    def aggregator(self, aggregator_id: int) -> AggregatorPublic:
        path = api.AGGREGATOR.format(aggregator_id=aggregator_id)
        return self._client.call(AggregatorPublic, "GET", path)

    # --- experiments ------------------------------------------------------------------

    def register_experiment(self, body: TrainingExperimentCreate) -> TrainingExperimentPublic:
        return self._client.call(TrainingExperimentPublic, "POST", api.TRAININGS, body=body)

    def experiments(self, name: str | None = None) -> list[TrainingExperimentPublic]:
        params = {"name": name}
        return self._client.call(
            list[TrainingExperimentPublic], "GET", api.TRAININGS, params=params
        )

    def experiment(self, experiment_id: int) -> TrainingExperimentPublic:
        path = api.TRAINING.format(experiment_id=experiment_id)
        return self._client.call(TrainingExperimentPublic, "GET", path)

    def decide_experiment(
        self, experiment_id: int, status: ApprovalStatus
    ) -> TrainingExperimentPublic:
        path = api.TRAINING_APPROVAL.format(experiment_id=experiment_id)
        body = Decision(status=status)
        return self._client.call(TrainingExperimentPublic, "PUT", path, body=body)

    def set_auto_approval(
        self, experiment_id: int, rule: AutoApprovalRule
    ) -> TrainingExperimentPublic:
        path = api.TRAINING_AUTO_APPROVAL.format(experiment_id=experiment_id)
        return self._client.call(TrainingExperimentPublic, "PUT", path, body=rule)

    def set_final_model(self, experiment_id: int, model_id: int) -> TrainingExperimentPublic:
        path = api.TRAINING_FINAL_MODEL.format(experiment_id=experiment_id)
        body = FinalModel(model_id=model_id)
        return self._client.call(TrainingExperimentPublic, "PUT", path, body=body)

    def ca(self, experiment_id: int) -> TrainingCAPublic:
        path = api.TRAINING_CA.format(experiment_id=experiment_id)
        return self._client.call(TrainingCAPublic, "GET", path)

    def certify_aggregator(self, experiment_id: int, csr_pem: str) -> AggregatorCertificatePublic:
        path = api.TRAINING_AGGREGATOR_CERTIFICATE.format(experiment_id=experiment_id)
        body = CertificateRequest(csr_pem=csr_pem)
        return self._client.call(AggregatorCertificatePublic, "POST", path, body=body)

    def nodes(self, experiment_id: int) -> list[TrainingNodePublic]:
        path = api.TRAINING_NODES.format(experiment_id=experiment_id)
        return self._client.call(list[TrainingNodePublic], "GET", path)

    # --- round metrics ----------------------------------------------------------------

    def report_round(self, experiment_id: int, body: RoundMetricsCreate) -> RoundMetricsPublic:
        path = api.TRAINING_ROUNDS.format(experiment_id=experiment_id)
        return self._client.call(RoundMetricsPublic, "POST", path, body=body)

    def rounds(self, experiment_id: int) -> list[RoundMetricsPublic]:
        path = api.TRAINING_ROUNDS.format(experiment_id=experiment_id)
        return self._client.call(list[RoundMetricsPublic], "GET", path)

    def report_site_round(
        self, experiment_id: int, body: SiteRoundMetricsCreate
    ) -> SiteRoundMetricsPublic:
        path = api.TRAINING_SITE_ROUNDS.format(experiment_id=experiment_id)
        return self._client.call(SiteRoundMetricsPublic, "POST", path, body=body)

    def site_rounds(
        self, experiment_id: int, dataset_id: int | None = None
    ) -> list[SiteRoundMetricsPublic]:
        path = api.TRAINING_SITE_ROUNDS.format(experiment_id=experiment_id)
        params = {"dataset_id": dataset_id}
        return self._client.call(list[SiteRoundMetricsPublic], "GET", path, params=params)

    # --- training associations --------------------------------------------------------

    def request_association(self, body: TrainingAssociationCreate) -> TrainingAssociationPublic:
        path = api.TRAINING_ASSOCIATIONS
        return self._client.call(TrainingAssociationPublic, "POST", path, body=body)

    def associations(
        self,
        experiment_id: int | None = None,
        dataset_id: int | None = None,
        status: ApprovalStatus | None = None,
    ) -> list[TrainingAssociationPublic]:
        params = {"experiment_id": experiment_id, "dataset_id": dataset_id, "status": status}
        path = api.TRAINING_ASSOCIATIONS
        return self._client.call(list[TrainingAssociationPublic], "GET", path, params=params)

    def association(self, association_id: int) -> TrainingAssociationPublic:
        path = api.TRAINING_ASSOCIATION.format(association_id=association_id)
        return self._client.call(TrainingAssociationPublic, "GET", path)

    def decide_association(
        self, association_id: int, status: ApprovalStatus
    ) -> TrainingAssociationPublic:
        path = api.TRAINING_ASSOCIATION_DECISION.format(association_id=association_id)
        body = Decision(status=status)
        return self._client.call(TrainingAssociationPublic, "PUT", path, body=body)

    def revoke_association(self, association_id: int) -> TrainingAssociationPublic:
        path = api.TRAINING_ASSOCIATION_REVOCATION.format(association_id=association_id)
        return self._client.call(TrainingAssociationPublic, "POST", path)

    def set_association_policy(
        self, association_id: int, policy: DataPolicy
    ) -> TrainingAssociationPublic:
        path = api.TRAINING_ASSOCIATION_POLICY.format(association_id=association_id)
        return self._client.call(TrainingAssociationPublic, "PUT", path, body=policy)
