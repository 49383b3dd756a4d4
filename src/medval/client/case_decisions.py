"""The data owner's decisions on the cases of a dataset's preparation, each recorded in
the local audit log: retry a failed case, exclude a case, and answer a review (accept,
replace a file, exclude). The CLI (``medval dataset case``, ``medval dataset review``)
and the local console call these, and nothing else decides on a case.

Each entry says who (the log's actor: the account logged in here), which dataset, step
and case (:func:`decided_entity`), and the decision
(``preparation_case.retry|exclude|accept|replace``); an accepted review carries the hash
of what was accepted, a replacement the new file's sha256. The local audit log stays on
this machine: case names are written in it and in no request to the server.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from medval.client.audit_log import LocalAuditLog
from medval.client.datasets import preparation_folder
from medval.client.preparation.case_folders import WORKFLOW_FOLDER
from medval.client.preparation.decisions import accept_review, exclude_case, retry_case
from medval.client.preparation.reviews import (
    WaitingReview,
    exclude_at_review,
    replace_reviewed_file,
    reviews_waiting,
)
from medval.client.preparation.state import STATE_FILE
from medval.client.workspace import Workspace
from medval.core.errors import NotFound

ENTITY_KIND = "preparation_case"
# The files of a review a browser may be shown as images (the console serves no other).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


class CaseDecision(StrEnum):
    RETRY = "retry"
    EXCLUDE = "exclude"
    ACCEPT = "accept"
    REPLACE = "replace"


def decided_entity(dataset: str, step: str | None, case: str) -> str:
    """How the audit log names a case of a dataset: ``DATASET/STEP/CASE``, or
    ``DATASET/CASE`` for a decision at no one step (neither a dataset's name nor a case,
    a top-level entry of the raw data, holds a ``/``)."""
    return f"{dataset}/{step}/{case}" if step else f"{dataset}/{case}"


def _record(
    audit: LocalAuditLog,
    decision: CaseDecision,
    dataset: str,
    step: str | None,
    case: str,
    content_hash: str | None = None,
) -> None:
    entity = decided_entity(dataset, step, case)
    audit.append(f"{ENTITY_KIND}.{decision.value}", ENTITY_KIND, entity, None, content_hash)


def retry(workspace: Workspace, audit: LocalAuditLog, dataset: str, case: str) -> None:
    """The case's failed step runs again at the next ``dataset prepare``."""
    failed = retry_case(_known(workspace, dataset), case)
    _record(audit, CaseDecision.RETRY, dataset, ",".join(failed), case)


def exclude(workspace: Workspace, audit: LocalAuditLog, dataset: str, case: str) -> None:
    """The case is left out of the prepared data from the next ``dataset prepare`` on."""
    exclude_case(_known(workspace, dataset), case)
    _record(audit, CaseDecision.EXCLUDE, dataset, None, case)


def waiting(workspace: Workspace, dataset: str) -> list[WaitingReview]:
    """The cases waiting at each review step, with the files to look at."""
    return reviews_waiting(preparation_folder(workspace, dataset), dataset)


def datasets_preparing(workspace: Workspace) -> list[str]:
    """The datasets of this workspace that a preparation workflow ran on (finished, or
    stopped at a review), by name."""
    root = workspace.home / "datasets"
    if not root.is_dir():
        return []
    return sorted(
        folder.name
        for folder in root.iterdir()
        if (folder / WORKFLOW_FOLDER / STATE_FILE).is_file()
    )


def review_image(workspace: Workspace, dataset: str, step: str, case: str, index: int) -> Path:
    """The ``index``-th file to look at for a case waiting at a review step, when it is an
    image (png, jpg): what the console may show, and nothing else (NotFound otherwise)."""
    for item in waiting(workspace, dataset):
        if (item.step, item.case) == (step, case) and 0 <= index < len(item.files):
            found = item.files[index]
            inside = found.resolve().is_relative_to(workspace.home.resolve())
            if inside and not found.is_symlink() and found.suffix.lower() in IMAGE_SUFFIXES:
                return found
    raise NotFound(f"no image {index} to review for case {case!r} at {step!r} of {dataset}")


def accept(workspace: Workspace, audit: LocalAuditLog, dataset: str, step: str, case: str) -> None:
    """The reviewer accepts what the step before the review wrote for the case."""
    accepted = accept_review(_known(workspace, dataset), step, case)
    _record(audit, CaseDecision.ACCEPT, dataset, step, case, accepted)


def replace(
    workspace: Workspace,
    audit: LocalAuditLog,
    dataset: str,
    step: str,
    case: str,
    relpath: str,
    new_file: Path,
) -> str:
    """The reviewer's corrected file in place of one the step wrote, accepted as it is
    now; returns the new file's sha256 (also in the audit log)."""
    folder = preparation_folder(workspace, dataset)
    digest = replace_reviewed_file(folder, dataset, step, case, relpath, new_file)
    _record(audit, CaseDecision.REPLACE, dataset, step, case, digest)
    return digest


def exclude_reviewed(
    workspace: Workspace, audit: LocalAuditLog, dataset: str, step: str, case: str
) -> None:
    """The reviewer leaves the case out (counted among the exclusions)."""
    exclude_at_review(preparation_folder(workspace, dataset), dataset, step, case)
    _record(audit, CaseDecision.EXCLUDE, dataset, step, case)


def _known(workspace: Workspace, dataset: str) -> Path:
    """The dataset's workflow folder; a dataset that has none here is one line (exit 4)."""
    folder = preparation_folder(workspace, dataset)
    if not (folder / STATE_FILE).is_file():
        raise NotFound(f"dataset {dataset} has no preparation workflow here")
    return folder
