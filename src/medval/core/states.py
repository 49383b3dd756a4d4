"""Entity states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from medval.core.errors import InvalidTransition


class Stage(StrEnum):
    """Life stage of a cube, benchmark or dataset.

    ``development``: a draft, visible to its owner, may not join a benchmark.
    ``operation``: frozen; may be associated and executed. There is no way back.
    """

    DEVELOPMENT = "development"
    OPERATION = "operation"


class ApprovalStatus(StrEnum):
    """Decision on a benchmark (by an admin) or an association (by the benchmark owner)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CubeKind(StrEnum):
    DATA_PREPARATOR = "data_preparator"
    MODEL = "model"
    EVALUATOR = "evaluator"


class RunnerKind(StrEnum):
    """The sandboxes a cube can run in; a benchmark names the ones it supports."""

    LOCAL = "local"
    DOCKER = "docker"
    PODMAN = "podman"


class AssociationKind(StrEnum):
    DATASET = "dataset"
    MODEL = "model"


class ExecutionStatus(StrEnum):
    """How a model's execution on a dataset ended, as the data owner uploads it.

    ``succeeded``: the model and the evaluator ran; the result carries metrics.
    ``failed``: a task failed, timed out, ran out of a limit, or the evaluator wrote no
    readable results document; the result carries a one-line reason and no metrics.
    """

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ReleasePolicy(StrEnum):
    """Who may see a benchmark's aggregate leaderboard.

    Per-site results are always limited to the benchmark owner, the dataset's owner and
    the model's owner (and admins), whatever the policy.
    """

    PRIVATE = "private"  # benchmark owner and admins only
    PARTICIPANTS = "participants"  # also every owner of an approved dataset or model
    PUBLIC = "public"  # anyone, without logging in


_STAGE_MOVES: dict[Stage, set[Stage]] = {
    Stage.DEVELOPMENT: {Stage.OPERATION},
    Stage.OPERATION: set(),
}

_APPROVAL_MOVES: dict[ApprovalStatus, set[ApprovalStatus]] = {
    ApprovalStatus.PENDING: {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED},
    ApprovalStatus.APPROVED: set(),
    ApprovalStatus.REJECTED: set(),
}


def check_stage_move(what: str, current: Stage, target: Stage) -> None:
    """Refuse a stage change that is not allowed, naming the entity."""
    if target not in _STAGE_MOVES[current]:
        raise InvalidTransition(f"{what} is in {current.value}; it cannot move to {target.value}")


def check_approval_move(what: str, current: ApprovalStatus, target: ApprovalStatus) -> None:
    """Refuse a decision on something already decided."""
    if target not in _APPROVAL_MOVES[current]:
        raise InvalidTransition(
            f"{what} is already {current.value}; it cannot become {target.value}"
        )
