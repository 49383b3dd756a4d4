"""The tables, as typed SQLAlchemy 2 ORM classes. The schema itself is made by Alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ReleasePolicy,
    Stage,
)

# Named constraints, so that future migrations can alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, on every backend.

    SQLite has no time zones and hands back naive values; they are stored as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[StrEnum]) -> Enum:
    # Stored as plain strings with their values (not names): readable and easy to extend.
    return Enum(
        cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        Stage: _enum(Stage),
        CubeKind: _enum(CubeKind),
        ApprovalStatus: _enum(ApprovalStatus),
        AssociationKind: _enum(AssociationKind),
        ReleasePolicy: _enum(ReleasePolicy),
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A login token; only its sha256 is kept, so a database leak leaks no tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class Cube(Base):
    __tablename__ = "cubes"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[CubeKind]
    archive_hash: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[Stage]
    created_at: Mapped[datetime]
    # A cube with a container image: its ID ("sha256:" + 64 hex) and its archive's blob.
    image_digest: Mapped[str | None] = mapped_column(String(71))
    image_archive_hash: Mapped[str | None] = mapped_column(String(64))

    owner: Mapped[User] = relationship(lazy="joined")


class Benchmark(Base):
    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text)
    docs_url: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    data_preparator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    reference_model_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    demo_data_hash: Mapped[str] = mapped_column(String(64))
    release_policy: Mapped[ReleasePolicy]
    approval: Mapped[ApprovalStatus]
    stage: Mapped[Stage]
    created_at: Mapped[datetime]
    # Runner kinds the benchmark supports (a list of strings); NULL means every kind.
    runners: Mapped[list[str] | None] = mapped_column(JSON)

    owner: Mapped[User] = relationship(lazy="joined")


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    data_preparator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    data_hash: Mapped[str] = mapped_column(String(64))
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON)
    stage: Mapped[Stage]
    created_at: Mapped[datetime]

    owner: Mapped[User] = relationship(lazy="joined")


class Association(Base):
    """A dataset or a model cube joining a benchmark; ``entity_id`` is read by ``kind``."""

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("benchmark_id", "kind", "entity_id"),
        Index("ix_associations_kind_entity", "kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    kind: Mapped[AssociationKind]
    entity_id: Mapped[int]
    status: Mapped[ApprovalStatus]
    initiated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    initiated_by: Mapped[User] = relationship(foreign_keys=[initiated_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("benchmark_id", "dataset_id", "model_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]

    dataset: Mapped[Dataset] = relationship(lazy="joined")
    model: Mapped[Cube] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(lazy="joined")
