"""What the store hands back: plain frozen records, with the names the API shows resolved.

Records are read-only snapshots; services never mutate them, they call the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ReleasePolicy,
    RunnerKind,
    Stage,
)


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    user: UserRecord
    expires_at: datetime


@dataclass(frozen=True)
class CubeRecord:
    id: int
    name: str
    kind: CubeKind
    archive_hash: str
    owner_id: int
    owner: str
    stage: Stage
    created_at: datetime
    image_digest: str | None = None
    image_archive_hash: str | None = None


@dataclass(frozen=True)
class BenchmarkRecord:
    id: int
    name: str
    description: str
    docs_url: str
    owner_id: int
    owner: str
    data_preparator_id: int
    reference_model_id: int
    evaluator_id: int
    demo_data_hash: str
    release_policy: ReleasePolicy
    approval: ApprovalStatus
    stage: Stage
    created_at: datetime
    runners: tuple[RunnerKind, ...] = tuple(RunnerKind)


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    name: str
    description: str
    location: str
    owner_id: int
    owner: str
    data_preparator_id: int
    data_hash: str
    statistics: DatasetStatistics
    stage: Stage
    created_at: datetime


@dataclass(frozen=True)
class AssociationRecord:
    id: int
    benchmark_id: int
    kind: AssociationKind
    entity_id: int
    entity_name: str
    entity_owner_id: int
    status: ApprovalStatus
    initiated_by_id: int
    initiated_by: str
    decided_by_id: int | None
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class ResultRecord:
    id: int
    benchmark_id: int
    dataset_id: int
    dataset: str
    dataset_owner_id: int
    model_id: int
    model: str
    model_owner_id: int
    owner_id: int
    owner: str
    document: ResultDocument
    provenance: Provenance
    created_at: datetime
