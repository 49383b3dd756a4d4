"""The tables of federated training (issue 11): aggregators, training experiments, the
datasets that join them (training associations, with their history) and round metrics.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in the core's ``XPublic`` schema (``core.training_schemas``), shown.
One column is never shown: an experiment CA's private key (``ca_key_pem``), which no
schema names; only the store's ``training_ca_key`` reads it, to issue certificates.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.states import ApprovalStatus
from medval.core.training_plan import TrainingPlan
from medval.server.store.column_types import JsonDocument
from medval.server.store.model_base import Base, Owned

if TYPE_CHECKING:
    from medval.server.store.models import Dataset, User

# Metrics as the store holds them: name -> number (checked by the schemas on the way in).
_Metrics = dict[str, float | int]


class Aggregator(Owned, Base):
    """A machine that runs Flower's SuperLink: sites connect to ``address``:``port``."""

    __tablename__ = "aggregators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(String(253))
    port: Mapped[int]
    created_at: Mapped[datetime]


class TrainingExperiment(Owned, Base):
    __tablename__ = "training_experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text)
    data_preparator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    training_cube_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    plan: Mapped[TrainingPlan] = mapped_column(JsonDocument(TrainingPlan))
    aggregator_id: Mapped[int] = mapped_column(ForeignKey("aggregators.id"), index=True)
    approval: Mapped[ApprovalStatus]
    auto_approval: Mapped[AutoApprovalRule] = mapped_column(JsonDocument(AutoApprovalRule))
    # The experiment's CA: its certificate is public, its key never leaves the server.
    ca_certificate_pem: Mapped[str] = mapped_column(Text)
    ca_key_pem: Mapped[str] = mapped_column(Text)
    aggregator_certificate_pem: Mapped[str | None] = mapped_column(Text, default=None)
    final_model_id: Mapped[int | None] = mapped_column(ForeignKey("cubes.id"), default=None)
    created_at: Mapped[datetime]

    aggregator_entity: Mapped[Aggregator] = relationship(lazy="joined")
    aggregator: AssociationProxy[str] = association_proxy("aggregator_entity", "name")
    aggregator_owner_id: AssociationProxy[int] = association_proxy("aggregator_entity", "owner_id")


class TrainingAssociationEvent(Base):
    """One move of a training association (as ``AssociationEvent`` for benchmarks).

    Rows are only ever added (by the store, with each change of the association)."""

    __tablename__ = "training_association_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("training_associations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ApprovalStatus]
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    # Approved by the system at request time on the training owner's behalf.
    automatic: Mapped[bool] = mapped_column(default=False, server_default=false())

    actor: Mapped[User] = relationship(lazy="joined")
    by: AssociationProxy[str] = association_proxy("actor", "username")


class TrainingAssociation(Base):
    """A dataset joining a training experiment, with its site's SuperNode public key."""

    __tablename__ = "training_associations"
    __table_args__ = (
        UniqueConstraint("experiment_id", "dataset_id"),
        # Flower tells nodes apart by their keys: one key is one site of an experiment.
        UniqueConstraint("experiment_id", "node_public_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("training_experiments.id", ondelete="CASCADE")
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    status: Mapped[ApprovalStatus]
    node_public_key: Mapped[str] = mapped_column(String(1000))
    initiated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    policy: Mapped[DataPolicy] = mapped_column(JsonDocument(DataPolicy))

    initiator: Mapped[User] = relationship(foreign_keys=[initiated_by_id], lazy="joined")
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    initiated_by: AssociationProxy[str] = association_proxy("initiator", "username")
    decided_by: AssociationProxy[str | None] = association_proxy("decider", "username")
    history: Mapped[list[TrainingAssociationEvent]] = relationship(
        order_by=TrainingAssociationEvent.id, lazy="selectin", viewonly=True
    )
    dataset_entity: Mapped[Dataset] = relationship(lazy="joined")
    dataset: AssociationProxy[str] = association_proxy("dataset_entity", "name")
    dataset_owner_id: AssociationProxy[int] = association_proxy("dataset_entity", "owner_id")

    @property
    def dataset_owner(self) -> str:
        return self.dataset_entity.owner


class TrainingRound(Base):
    """One round's metrics aggregated across sites, as the aggregator's owner sent them."""

    __tablename__ = "training_rounds"
    __table_args__ = (UniqueConstraint("experiment_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("training_experiments.id", ondelete="CASCADE")
    )
    round: Mapped[int]
    metrics: Mapped[_Metrics] = mapped_column(JsonDocument(_Metrics))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    uploader: Mapped[User] = relationship(lazy="joined")
    uploaded_by: AssociationProxy[str] = association_proxy("uploader", "username")


class SiteTrainingRound(Base):
    """One site's own metrics of one round: seen by that dataset's owner and the
    training owner only."""

    __tablename__ = "site_training_rounds"
    __table_args__ = (UniqueConstraint("experiment_id", "dataset_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("training_experiments.id", ondelete="CASCADE")
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    round: Mapped[int]
    metrics: Mapped[_Metrics] = mapped_column(JsonDocument(_Metrics))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    uploader: Mapped[User] = relationship(lazy="joined")
    uploaded_by: AssociationProxy[str] = association_proxy("uploader", "username")
    dataset_entity: Mapped[Dataset] = relationship(lazy="joined")
    dataset: AssociationProxy[str] = association_proxy("dataset_entity", "name")
    dataset_owner_id: AssociationProxy[int] = association_proxy("dataset_entity", "owner_id")
