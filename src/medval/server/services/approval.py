"""The rules every association follows, whatever it joins (a benchmark, a training
experiment): one decision function per rule, so the two kinds cannot drift apart.

- A decision is an approval or a rejection; revoking is its own move.
- The moves allowed from each status (``core.states.check_association_move``).
- Four eyes: whoever asked cannot also grant, not even an admin.
- A pending or approved association is not asked for again; a rejected or revoked one
  reopens on a new request.
"""

from __future__ import annotations

from medval.core.errors import Conflict, InvalidInput, PermissionDenied
from medval.core.states import ApprovalStatus, check_association_move
from medval.server.store.records import UserRecord


def require_decision(status: ApprovalStatus) -> None:
    """``status`` is one a decision may give."""
    if status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        raise InvalidInput(
            f"a decision is approved or rejected, not {status.value} (revoking has its own route)"
        )


def check_decision(
    what: str,
    current: ApprovalStatus,
    status: ApprovalStatus,
    initiated_by_id: int,
    caller: UserRecord,
) -> None:
    """``caller`` may move ``what`` from ``current`` to ``status`` (their right to decide
    at all is the caller's to check: it depends on what the association joins)."""
    check_association_move(what, current, status)
    if status is ApprovalStatus.APPROVED and initiated_by_id == caller.id:
        raise PermissionDenied(f"you requested {what}; someone else must approve it")


def require_reopenable(current: ApprovalStatus, what: str, where: str, association_id: int) -> None:
    """A request again is allowed only after a rejection or a revocation."""
    if current in (ApprovalStatus.PENDING, ApprovalStatus.APPROVED):
        raise Conflict(
            f"{what} is already {current.value} on {where} (association {association_id})"
        )
