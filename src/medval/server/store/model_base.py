"""What every table class shares: the declarative base (with the domain's column types),
the naming of constraints, and the mixins for an owner and for invalidation.

``models`` (accounts, cubes, benchmarks, datasets, associations, results, the audit log)
and ``training_models`` (aggregators, training experiments, their associations and
metrics) both build on it; classes refer to each other by name ("User"), resolved by
SQLAlchemy's registry. Imports only SQLAlchemy, ``column_types`` and the core.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.phases import PublicationMode, ResultPublication
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ExecutionStatus,
    ReleasePolicy,
    Stage,
)
from medval.server.store.column_types import JsonDocument, UtcDateTime, enum_column

if TYPE_CHECKING:
    from medval.server.store.models import User

# Named constraints, so that future migrations can alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # A domain type in a ``Mapped[...]`` annotation picks its column type here.
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        Stage: enum_column(Stage),
        CubeKind: enum_column(CubeKind),
        ApprovalStatus: enum_column(ApprovalStatus),
        AssociationKind: enum_column(AssociationKind),
        ReleasePolicy: enum_column(ReleasePolicy),
        ExecutionStatus: enum_column(ExecutionStatus),
        PublicationMode: enum_column(PublicationMode),
        ResultPublication: enum_column(ResultPublication),
        DatasetStatistics: JsonDocument(DatasetStatistics),
        ResultDocument: JsonDocument(ResultDocument),
        Provenance: JsonDocument(Provenance),
    }


def _mapped_name(cls: object) -> str:
    """The name of the class a mixin's ``declared_attr`` is called for (typed as an
    instance by mypy, a class at run time)."""
    return cls.__name__ if isinstance(cls, type) else type(cls).__name__


class Owned:
    """Belongs to an account: ``owner_id`` is stored, ``owner`` (the username) is shown."""

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    @declared_attr
    def owner_account(cls) -> Mapped[User]:
        # Named, since an entity may point at users twice (see ``Invalidatable``).
        return relationship("User", foreign_keys=f"{_mapped_name(cls)}.owner_id", lazy="joined")

    owner: AssociationProxy[str] = association_proxy("owner_account", "username")


class Invalidatable:
    """Can be invalidated, once and for good, by its owner or an admin: who and when are
    stored (``invalidated_by`` shows the username); NULL while it is valid."""

    invalidated_at: Mapped[datetime | None] = mapped_column(default=None)
    invalidated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    @declared_attr
    def invalidator(cls) -> Mapped[User | None]:
        return relationship(
            "User", foreign_keys=f"{_mapped_name(cls)}.invalidated_by_id", lazy="joined"
        )

    invalidated_by: AssociationProxy[str | None] = association_proxy("invalidator", "username")
