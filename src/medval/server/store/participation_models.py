"""The table of a benchmark's expected sites (issue 19): each account or institution its
committee expects to take part.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.participation_schemas``, shown. One row per (benchmark,
user) and per (benchmark, institution); a user row has ``user_id``, an institution row
``institution`` (the name an admin gives accounts, ``users.institution``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medval.core.participation_schemas import SiteKind
from medval.server.store.column_types import enum_column
from medval.server.store.model_base import Base

if TYPE_CHECKING:
    from medval.server.store.models import User


class ExpectedSite(Base):
    """A site the benchmark's committee expects: ``user_id`` or ``institution`` by kind."""

    __tablename__ = "expected_sites"
    __table_args__ = (
        # NULLs are distinct in both backends, so each holds for its own kind only.
        UniqueConstraint("benchmark_id", "user_id"),
        UniqueConstraint("benchmark_id", "institution"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(
        ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SiteKind] = mapped_column(enum_column(SiteKind))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    institution: Mapped[str | None] = mapped_column(String(120), default=None)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    account: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")
    adder: Mapped[User] = relationship(foreign_keys=[added_by_id], lazy="joined")
    added_by: AssociationProxy[str] = association_proxy("adder", "username")

    @property
    def name(self) -> str:
        """The username of a user row, the institution's name of an institution row."""
        if self.kind is SiteKind.USER:
            if self.account is None:  # the store refuses a user row without its account
                raise LookupError(f"expected site {self.id}: its account is gone")
            return self.account.username
        return self.institution or ""
