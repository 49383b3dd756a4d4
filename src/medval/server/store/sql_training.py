"""The SQL store's part for federated training (``training_interface``), on ``SqlRows``.

As in ``sql``: no field is listed; rows are made from the ``XCreate`` schemas by name and
read back as records; the methods only say which rows, in which order, and the errors a
caller can cause.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.paging import Cursor
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    AggregatorCreate,
    RoundMetricsCreate,
    SiteRoundMetricsCreate,
    TrainingExperimentCreate,
)
from medval.server.store import training_models as t
from medval.server.store.records import (
    AggregatorRecord,
    RoundMetricsRecord,
    SiteRoundMetricsRecord,
    TrainingAssociationRecord,
    TrainingExperimentRecord,
)
from medval.server.store.sql_rows import SqlRows, matching, paged


class SqlTrainingRows(SqlRows):
    # --- aggregators ------------------------------------------------------------------

    def add_aggregator(
        self, owner_id: int, aggregator: AggregatorCreate, now: datetime
    ) -> AggregatorRecord:
        row = t.Aggregator(**dict(aggregator), owner_id=owner_id, created_at=now)
        what = f"an aggregator named {aggregator.name!r}"
        return AggregatorRecord.model_validate(self._insert(row, what))

    def aggregator(self, aggregator_id: int) -> AggregatorRecord | None:
        return self._find(AggregatorRecord, t.Aggregator, aggregator_id)

    def list_aggregators(
        self, name: str | None = None, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[AggregatorRecord]:
        query = matching(select(t.Aggregator), (t.Aggregator.name, name))
        return self._list(AggregatorRecord, paged(query, [t.Aggregator.id], after, limit))

    # --- training experiments ---------------------------------------------------------

    def add_training_experiment(
        self,
        owner_id: int,
        experiment: TrainingExperimentCreate,
        ca_certificate_pem: str,
        ca_key_pem: str,
        now: datetime,
    ) -> TrainingExperimentRecord:
        row = t.TrainingExperiment(
            **dict(experiment),
            owner_id=owner_id,
            approval=ApprovalStatus.PENDING,
            ca_certificate_pem=ca_certificate_pem,
            ca_key_pem=ca_key_pem,
            created_at=now,
        )
        what = f"a training experiment named {experiment.name!r}"
        return TrainingExperimentRecord.model_validate(self._insert(row, what))

    def training_experiment(self, experiment_id: int) -> TrainingExperimentRecord | None:
        return self._find(TrainingExperimentRecord, t.TrainingExperiment, experiment_id)

    def list_training_experiments(
        self, name: str | None = None, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[TrainingExperimentRecord]:
        query = matching(select(t.TrainingExperiment), (t.TrainingExperiment.name, name))
        query = paged(query, [t.TrainingExperiment.id], after, limit)
        return self._list(TrainingExperimentRecord, query)

    def training_ca_key(self, experiment_id: int) -> str | None:
        row = self.session.get(t.TrainingExperiment, experiment_id)
        return row.ca_key_pem if row is not None else None

    def _change_experiment(
        self, experiment_id: int, action: str, **values: object
    ) -> TrainingExperimentRecord:
        return self._change(
            TrainingExperimentRecord,
            t.TrainingExperiment,
            experiment_id,
            "training experiment",
            action,
            **values,
        )

    def set_training_approval(
        self, experiment_id: int, approval: ApprovalStatus
    ) -> TrainingExperimentRecord:
        return self._change_experiment(experiment_id, approval.value, approval=approval)

    def set_training_auto_approval(
        self, experiment_id: int, rule: AutoApprovalRule
    ) -> TrainingExperimentRecord:
        return self._change_experiment(experiment_id, "set auto-approval", auto_approval=rule)

    def set_aggregator_certificate(
        self, experiment_id: int, certificate_pem: str
    ) -> TrainingExperimentRecord:
        return self._change_experiment(
            experiment_id,
            "issue aggregator certificate",
            aggregator_certificate_pem=certificate_pem,
        )

    def set_final_model(self, experiment_id: int, model_id: int) -> TrainingExperimentRecord:
        return self._change_experiment(experiment_id, "set final model", final_model_id=model_id)

    # --- training associations --------------------------------------------------------

    def add_training_association(
        self,
        experiment_id: int,
        dataset_id: int,
        node_public_key: str,
        initiated_by_id: int,
        now: datetime,
    ) -> TrainingAssociationRecord:
        row = t.TrainingAssociation(
            experiment_id=experiment_id,
            dataset_id=dataset_id,
            status=ApprovalStatus.PENDING,
            node_public_key=node_public_key,
            initiated_by_id=initiated_by_id,
            created_at=now,
            policy=DataPolicy(),
        )
        what = f"an association of dataset {dataset_id} (or of this node key) with this experiment"
        added = self._insert(row, what)
        return self._record_training_move(added.id, ApprovalStatus.PENDING, initiated_by_id, now)

    def training_association(self, association_id: int) -> TrainingAssociationRecord | None:
        return self._find(TrainingAssociationRecord, t.TrainingAssociation, association_id)

    def list_training_associations(
        self,
        experiment_id: int | None = None,
        dataset_id: int | None = None,
        status: ApprovalStatus | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[TrainingAssociationRecord]:
        query = matching(
            select(t.TrainingAssociation),
            (t.TrainingAssociation.experiment_id, experiment_id),
            (t.TrainingAssociation.dataset_id, dataset_id),
            (t.TrainingAssociation.status, status),
        )
        query = paged(query, [t.TrainingAssociation.id], after, limit)
        return self._list(TrainingAssociationRecord, query)

    def decide_training_association(
        self,
        association_id: int,
        status: ApprovalStatus,
        decided_by_id: int,
        now: datetime,
        automatic: bool = False,
    ) -> TrainingAssociationRecord:
        self._change(
            TrainingAssociationRecord,
            t.TrainingAssociation,
            association_id,
            "training association",
            f"auto-{status.value}" if automatic else status.value,
            status=status,
            decided_by_id=decided_by_id,
            decided_at=now,
        )
        return self._record_training_move(association_id, status, decided_by_id, now, automatic)

    def reopen_training_association(
        self, association_id: int, node_public_key: str, initiated_by_id: int, now: datetime
    ) -> TrainingAssociationRecord:
        self._change(
            TrainingAssociationRecord,
            t.TrainingAssociation,
            association_id,
            "training association",
            "reopen",
            status=ApprovalStatus.PENDING,
            node_public_key=node_public_key,
            initiated_by_id=initiated_by_id,
            decided_by_id=None,
            decided_at=None,
        )
        return self._record_training_move(
            association_id, ApprovalStatus.PENDING, initiated_by_id, now
        )

    def set_training_association_policy(
        self, association_id: int, policy: DataPolicy
    ) -> TrainingAssociationRecord:
        return self._change(
            TrainingAssociationRecord,
            t.TrainingAssociation,
            association_id,
            "training association",
            "set policy",
            policy=policy,
        )

    def _record_training_move(
        self,
        association_id: int,
        status: ApprovalStatus,
        actor_id: int,
        now: datetime,
        automatic: bool = False,
    ) -> TrainingAssociationRecord:
        """Every change of a training association is kept in its history, here only."""
        event = t.TrainingAssociationEvent(
            association_id=association_id,
            status=status,
            actor_id=actor_id,
            at=now,
            automatic=automatic,
        )
        self._insert(event, "a training association event")
        row = self._get(t.TrainingAssociation, association_id, "training association")
        self.session.refresh(row)  # reloads the history with the new move
        return TrainingAssociationRecord.model_validate(row)

    # --- round metrics ----------------------------------------------------------------

    def add_training_round(
        self, experiment_id: int, metrics: RoundMetricsCreate, uploaded_by_id: int, now: datetime
    ) -> RoundMetricsRecord:
        row = t.TrainingRound(
            **dict(metrics), experiment_id=experiment_id, uploaded_by_id=uploaded_by_id,
            created_at=now,
        )  # fmt: skip
        what = f"round {metrics.round} of this experiment"
        return RoundMetricsRecord.model_validate(self._insert(row, what))

    def list_training_rounds(
        self, experiment_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[RoundMetricsRecord]:
        query = select(t.TrainingRound).where(t.TrainingRound.experiment_id == experiment_id)
        return self._list(RoundMetricsRecord, paged(query, [t.TrainingRound.round], after, limit))

    def add_site_training_round(
        self,
        experiment_id: int,
        metrics: SiteRoundMetricsCreate,
        uploaded_by_id: int,
        now: datetime,
    ) -> SiteRoundMetricsRecord:
        row = t.SiteTrainingRound(
            **dict(metrics), experiment_id=experiment_id, uploaded_by_id=uploaded_by_id,
            created_at=now,
        )  # fmt: skip
        what = f"round {metrics.round} of dataset {metrics.dataset_id} on this experiment"
        return SiteRoundMetricsRecord.model_validate(self._insert(row, what))

    def list_site_training_rounds(
        self,
        experiment_id: int,
        dataset_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[SiteRoundMetricsRecord]:
        query = matching(
            select(t.SiteTrainingRound).where(t.SiteTrainingRound.experiment_id == experiment_id),
            (t.SiteTrainingRound.dataset_id, dataset_id),
        )
        key = [t.SiteTrainingRound.round, t.SiteTrainingRound.dataset_id]
        return self._list(SiteRoundMetricsRecord, paged(query, key, after, limit))
