"""The tables of private models' keys (issue 16): each site's encryption public keys, and
each private model's key wrapped to a site's key, or withheld from that site.

Built as ``models`` builds the others (read its docstring): a column here is stored and,
under the same name in ``core.model_key_schemas``, shown. A wrapped key is opaque to the
server (only its recipient's private key opens it); the model's key itself is never here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medval.server.store.model_base import Base, Owned

if TYPE_CHECKING:
    from medval.server.store.models import User


class EncryptionKey(Owned, Base):
    """A site's X25519 public key, to which model keys are wrapped. One per owner is
    current (``retired_at`` NULL); a new one retires it. Never deleted."""

    __tablename__ = "encryption_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(44))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class WrappedModelKey(Base):
    """A private model's key wrapped to one recipient's encryption key (``wrapped_key``),
    or withheld from the recipient by the model's owner (``withheld``: no key, and
    ``medval model keys sync`` skips the recipient). One row per (model, recipient)."""

    __tablename__ = "wrapped_model_keys"
    __table_args__ = (UniqueConstraint("cube_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cube_id: Mapped[int] = mapped_column(ForeignKey("cubes.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    encryption_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("encryption_keys.id"), default=None
    )
    wrapped_key: Mapped[str | None] = mapped_column(String(108), default=None)
    withheld: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]

    recipient_account: Mapped[User] = relationship(lazy="joined")
    encryption_key: Mapped[EncryptionKey | None] = relationship(lazy="joined")
    recipient: AssociationProxy[str] = association_proxy("recipient_account", "username")

    @property
    def model_id(self) -> int:
        return self.cube_id

    @property
    def key_id(self) -> str | None:
        return self.encryption_key.key_id if self.encryption_key is not None else None
