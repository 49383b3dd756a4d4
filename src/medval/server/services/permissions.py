"""Who may do what: ownership first; admins may do everything (except where noted)."""

from __future__ import annotations

from medval.core.errors import NotFound, PermissionDenied
from medval.core.states import Stage
from medval.server.store.records import UserRecord


def is_owner_or_admin(user: UserRecord | None, owner_id: int) -> bool:
    return user is not None and (user.is_admin or user.id == owner_id)


def require_admin(user: UserRecord) -> None:
    if not user.is_admin:
        raise PermissionDenied("only an admin may do this")


def require_owner_or_admin(user: UserRecord, owner_id: int, what: str) -> None:
    if not is_owner_or_admin(user, owner_id):
        raise PermissionDenied(f"only the owner of {what} (or an admin) may do this")


def require_owner(user: UserRecord, owner_id: int, what: str, action: str) -> None:
    """Only the owner, not even an admin: for acts done in the owner's name."""
    if user.id != owner_id:
        raise PermissionDenied(f"only the owner of {what} may {action}")


def can_see_draft(user: UserRecord | None, owner_id: int, stage: Stage) -> bool:
    """A draft (development stage) is visible to its owner and admins only."""
    return stage is Stage.OPERATION or is_owner_or_admin(user, owner_id)


def not_found(what: str, entity_id: int) -> NotFound:
    # The same message whether it is missing or hidden, so ids leak nothing.
    return NotFound(f"{what} {entity_id} does not exist")
