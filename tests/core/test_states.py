"""Entities move only along the allowed transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from medval.core.errors import InvalidTransition
from medval.core.states import (
    ApprovalStatus,
    Stage,
    check_approval_move,
    check_association_move,
    check_stage_move,
    check_valid,
)


def test_development_moves_to_operation() -> None:
    check_stage_move("cube 1", Stage.DEVELOPMENT, Stage.OPERATION)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Stage.OPERATION, Stage.DEVELOPMENT),
        (Stage.OPERATION, Stage.OPERATION),
        (Stage.DEVELOPMENT, Stage.DEVELOPMENT),
    ],
)
def test_other_stage_moves_are_refused(current: Stage, target: Stage) -> None:
    with pytest.raises(InvalidTransition, match="cube 1 is in"):
        check_stage_move("cube 1", current, target)


@pytest.mark.parametrize("target", [ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
def test_pending_can_be_decided(target: ApprovalStatus) -> None:
    check_approval_move("association 3", ApprovalStatus.PENDING, target)


@pytest.mark.parametrize("current", [ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
@pytest.mark.parametrize("target", list(ApprovalStatus))
def test_decisions_are_final(current: ApprovalStatus, target: ApprovalStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"already {current.value}"):
        check_approval_move("association 3", current, target)


def test_a_benchmark_is_never_revoked() -> None:
    with pytest.raises(InvalidTransition, match="cannot become revoked"):
        check_approval_move("benchmark b", ApprovalStatus.PENDING, ApprovalStatus.REVOKED)


ASSOCIATION_MOVES = {
    (ApprovalStatus.PENDING, ApprovalStatus.APPROVED),
    (ApprovalStatus.PENDING, ApprovalStatus.REJECTED),
    (ApprovalStatus.PENDING, ApprovalStatus.REVOKED),
    (ApprovalStatus.APPROVED, ApprovalStatus.REVOKED),
    (ApprovalStatus.REJECTED, ApprovalStatus.PENDING),
    (ApprovalStatus.REVOKED, ApprovalStatus.PENDING),
}


@pytest.mark.parametrize("current", list(ApprovalStatus))
@pytest.mark.parametrize("target", list(ApprovalStatus))
def test_association_moves(current: ApprovalStatus, target: ApprovalStatus) -> None:
    """Revoked from pending or approved; asked again (pending) after a rejection or a
    revocation; nothing else."""
    if (current, target) in ASSOCIATION_MOVES:
        check_association_move("association 3", current, target)
        return
    with pytest.raises(InvalidTransition) as refused:
        check_association_move("association 3", current, target)
    assert refused.value.message == (
        f"association 3 is {current.value}; it cannot become {target.value}"
    )


@dataclass(frozen=True)
class _Entity:
    invalidated_at: datetime | None
    invalidated_by: str | None


def test_an_invalidated_entity_is_refused_in_one_line() -> None:
    check_valid("cube 1", _Entity(None, None))
    with pytest.raises(InvalidTransition) as refused:
        check_valid("cube 1", _Entity(datetime(2024, 5, 1, tzinfo=UTC), "vendor"))
    assert refused.value.message == (
        "cube 1 was invalidated by vendor on 2024-05-01; nothing new runs against it"
    )
