"""Entity states and the transitions allowed between them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from medval.core.errors import InvalidTransition


class Stage(StrEnum):
    """Life stage of a cube, benchmark or dataset.

    ``development``: a draft, visible to its owner, may not join a benchmark.
    ``operation``: frozen; may be associated and executed. There is no way back.
    """

    DEVELOPMENT = "development"
    OPERATION = "operation"


class ApprovalStatus(StrEnum):
    """Decision on a benchmark (by an admin) or an association (by the benchmark owner).

    ``revoked`` is for associations only: either side (or an admin) withdrew it. A
    rejected or revoked association can be requested again, which makes it pending.
    """

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class CubeKind(StrEnum):
    """What a cube is for. The first three run as tasks (``cube_spec.TASKS``); a
    ``training`` cube is a Flower app folder (``core.flower_app``), run by Flower under
    a training experiment."""

    DATA_PREPARATOR = "data_preparator"
    MODEL = "model"
    EVALUATOR = "evaluator"
    TRAINING = "training"


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


class AutoApprovalMode(StrEnum):
    """Whether a benchmark approves an association at request time, on its owner's behalf.

    ``never``: its owner decides each one. ``always``: every request (but the owner's
    own, which someone else must approve). ``allowlist``: requests by the named users.
    """

    NEVER = "never"
    ALWAYS = "always"
    ALLOWLIST = "allowlist"


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


# An association is one row per (benchmark, entity) whose status moves on; every move is
# kept in its history. Rejected and revoked ones reopen (pending) on a new request.
_ASSOCIATION_MOVES: dict[ApprovalStatus, set[ApprovalStatus]] = {
    ApprovalStatus.PENDING: {
        ApprovalStatus.APPROVED,
        ApprovalStatus.REJECTED,
        ApprovalStatus.REVOKED,
    },
    ApprovalStatus.APPROVED: {ApprovalStatus.REVOKED},
    ApprovalStatus.REJECTED: {ApprovalStatus.PENDING},
    ApprovalStatus.REVOKED: {ApprovalStatus.PENDING},
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


def check_association_move(what: str, current: ApprovalStatus, target: ApprovalStatus) -> None:
    """Refuse an association move that is not allowed (see ``_ASSOCIATION_MOVES``)."""
    if target not in _ASSOCIATION_MOVES[current]:
        raise InvalidTransition(f"{what} is {current.value}; it cannot become {target.value}")


class Invalidatable(Protocol):
    """A cube, dataset or benchmark: an owner (or an admin) may invalidate it, for good.

    It stays in the record (listed, its results kept), but nothing new runs against it.
    """

    @property
    def invalidated_at(self) -> datetime | None: ...

    @property
    def invalidated_by(self) -> str | None: ...


def check_valid(what: str, entity: Invalidatable) -> None:
    """Refuse to run, associate or upload anything new with an invalidated entity."""
    if entity.invalidated_at is not None:
        raise InvalidTransition(
            f"{what} was invalidated by {entity.invalidated_by or 'its owner'} on "
            f"{entity.invalidated_at:%Y-%m-%d}; nothing new runs against it"
        )
