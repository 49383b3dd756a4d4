"""Entities move only along the allowed transitions."""

from __future__ import annotations

import pytest

from medval.core.errors import InvalidTransition
from medval.core.states import ApprovalStatus, Stage, check_approval_move, check_stage_move


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
