"""The store's part for federated training: every read and write the training services
need, independent of the backend. ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: ``XCreate`` in, records out; adding a row that
breaks a uniqueness rule raises ``Conflict``; getters return ``None`` for unknown ids;
every change is appended to the audit log by the store itself; lists page by their sort
key (``interface``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.paging import Cursor
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    AggregatorCreate,
    RoundMetricsCreate,
    SiteRoundMetricsCreate,
    TrainingExperimentCreate,
)
from medval.server.store.records import (
    AggregatorRecord,
    RoundMetricsRecord,
    SiteRoundMetricsRecord,
    TrainingAssociationRecord,
    TrainingExperimentRecord,
)


class TrainingTransaction(Protocol):
    # --- aggregators ------------------------------------------------------------------
    def add_aggregator(
        self, owner_id: int, aggregator: AggregatorCreate, now: datetime
    ) -> AggregatorRecord: ...
    def aggregator(self, aggregator_id: int) -> AggregatorRecord | None: ...
    def list_aggregators(
        self, name: str | None = None, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[AggregatorRecord]: ...

    # --- training experiments ---------------------------------------------------------
    def add_training_experiment(
        self,
        owner_id: int,
        experiment: TrainingExperimentCreate,
        ca_certificate_pem: str,
        ca_key_pem: str,
        now: datetime,
    ) -> TrainingExperimentRecord:
        """A new experiment, pending an admin's approval, with its CA."""
        ...

    def training_experiment(self, experiment_id: int) -> TrainingExperimentRecord | None: ...
    def list_training_experiments(
        self, name: str | None = None, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[TrainingExperimentRecord]: ...
    def training_ca_key(self, experiment_id: int) -> str | None:
        """Only for issuing certificates: records never carry the CA's key."""
        ...

    def set_training_approval(
        self, experiment_id: int, approval: ApprovalStatus
    ) -> TrainingExperimentRecord: ...
    def set_training_auto_approval(
        self, experiment_id: int, rule: AutoApprovalRule
    ) -> TrainingExperimentRecord: ...
    def set_aggregator_certificate(
        self, experiment_id: int, certificate_pem: str
    ) -> TrainingExperimentRecord: ...
    def set_final_model(self, experiment_id: int, model_id: int) -> TrainingExperimentRecord: ...

    # --- training associations --------------------------------------------------------
    def add_training_association(
        self,
        experiment_id: int,
        dataset_id: int,
        node_public_key: str,
        initiated_by_id: int,
        now: datetime,
    ) -> TrainingAssociationRecord:
        """A new association, pending; every change of it adds a move to its history."""
        ...

    def training_association(self, association_id: int) -> TrainingAssociationRecord | None: ...
    def list_training_associations(
        self,
        experiment_id: int | None = None,
        dataset_id: int | None = None,
        status: ApprovalStatus | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[TrainingAssociationRecord]: ...
    def decide_training_association(
        self,
        association_id: int,
        status: ApprovalStatus,
        decided_by_id: int,
        now: datetime,
        automatic: bool = False,
    ) -> TrainingAssociationRecord: ...
    def reopen_training_association(
        self, association_id: int, node_public_key: str, initiated_by_id: int, now: datetime
    ) -> TrainingAssociationRecord:
        """Requested again (after a rejection or a revocation), maybe with a new node key:
        pending, undecided."""
        ...

    def set_training_association_policy(
        self, association_id: int, policy: DataPolicy
    ) -> TrainingAssociationRecord: ...

    # --- round metrics ----------------------------------------------------------------
    def add_training_round(
        self, experiment_id: int, metrics: RoundMetricsCreate, uploaded_by_id: int, now: datetime
    ) -> RoundMetricsRecord:
        """Conflict when the round is already recorded."""
        ...

    def list_training_rounds(
        self, experiment_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[RoundMetricsRecord]:
        """By round: the sort key is ``(round,)``."""
        ...

    def add_site_training_round(
        self,
        experiment_id: int,
        metrics: SiteRoundMetricsCreate,
        uploaded_by_id: int,
        now: datetime,
    ) -> SiteRoundMetricsRecord:
        """Conflict when this dataset's round is already recorded."""
        ...

    def list_site_training_rounds(
        self,
        experiment_id: int,
        dataset_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[SiteRoundMetricsRecord]:
        """By round, then dataset: the sort key is ``(round, dataset_id)``."""
        ...
