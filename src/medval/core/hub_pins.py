"""A model cube held in a Hugging Face Hub-style repository, and what pins it.

``REPO@REVISION`` names it (:func:`parse_hub_reference`); :class:`HubPin` is what its
registration records: the repository, the revision asked for, the commit that revision
was at, and every file's sha256. The site checks its own mirror against that pin before
the cube runs (``client.hub_mirror``). Imports only pydantic and ``core``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from medval.core.errors import InvalidInput
from medval.core.schema_types import Schema, Sha256

# The Hub's own rules for a repository id (huggingface_hub.utils.validate_repo_id): an
# optional namespace and a name, letters, digits, '.', '_', '-', at most 96 characters,
# no '--' or '..' (the cache folder's separator), not starting or ending with '.' or '-'.
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?"
REPO_PATTERN = rf"^(?:{_PART}/)?{_PART}$"
# A branch, a tag or a commit hash, as git allows them (no spaces, no '..', no control).
REVISION_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$"
COMMIT_PATTERN = r"^[0-9a-f]{40}$"

HubRepo = Annotated[str, StringConstraints(pattern=REPO_PATTERN, max_length=96)]
HubRevision = Annotated[str, StringConstraints(pattern=REVISION_PATTERN)]
HubCommit = Annotated[str, StringConstraints(pattern=COMMIT_PATTERN)]


# A file's path inside the repository: relative, '/' between parts, no '.' or '..' part.
def _repo_file_path(value: str) -> str:
    parts = value.split("/")
    if "\x00" in value or any(part in ("", ".", "..") for part in parts):
        raise ValueError("a file's path in the repository: relative, no '.' or '..' part")
    return value


RepoFilePath = Annotated[
    str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_repo_file_path)
]
MAX_PINNED_FILES = 100_000


class HubPin(Schema):
    """What a cube registered from a hub repository is pinned to."""

    repo: HubRepo
    revision: HubRevision  # as the model owner gave it (a branch, a tag or the commit)
    commit: HubCommit  # what that revision was at when the cube was registered
    files: dict[RepoFilePath, Sha256] = Field(max_length=MAX_PINNED_FILES)

    @property
    def label(self) -> str:
        """``org/model@main (commit 0123abcd…)``: how messages name it."""
        if self.revision == self.commit:
            return f"{self.repo}@{self.commit}"
        return f"{self.repo}@{self.revision} (commit {self.commit})"


@dataclass(frozen=True)
class HubReference:
    """``REPO@REVISION`` as the model owner typed it, parsed."""

    repo: str
    revision: str

    @property
    def is_commit(self) -> bool:
        return re.fullmatch(COMMIT_PATTERN, self.revision) is not None


def parse_hub_reference(text: str) -> HubReference:
    """``org/model@main`` -> HubReference; one line saying what is wrong otherwise."""
    shown = text[:200]
    repo, at, revision = text.rpartition("@")
    if not at or not repo or not revision:
        raise InvalidInput(
            f"--hub {shown!r}: give REPO@REVISION, e.g. my-org/my-model@main or "
            "my-org/my-model@<commit>"
        )
    if re.fullmatch(REPO_PATTERN, repo) is None or len(repo) > 96 or _doubled(repo):
        raise InvalidInput(
            f"--hub {shown!r}: {repo[:100]!r} is not a repository id (ORG/NAME: letters, "
            "digits, '.', '_', '-', at most 96 characters)"
        )
    if re.fullmatch(REVISION_PATTERN, revision) is None or ".." in revision:
        raise InvalidInput(
            f"--hub {shown!r}: {revision[:100]!r} is not a revision (a branch, a tag or a "
            "commit hash)"
        )
    return HubReference(repo, revision)


def _doubled(repo: str) -> bool:
    return "--" in repo or ".." in repo
