"""The membership schemas of the HTTP API (issue 10): a benchmark's agreement, its
auto-approval rule, and a data owner's policy on a dataset's association. Used by the
server and the client, as every schema in ``core.schemas``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints, model_validator

from medval.core.schema_types import Name, Sha256
from medval.core.schema_types import Schema as _Schema
from medval.core.states import ApprovalStatus, AutoApprovalMode

# --- membership: the agreement, auto-approval and data policies (issue 10) -------------

# A membership agreement is a UTF-8 text document (Markdown or plain text).
AgreementText = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]


def agreement_sha256(text: str) -> str:
    """What pins an agreement: the sha256 of its text, encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MembershipAgreement(_Schema):
    """The document a benchmark asks each data owner to accept, once, before any of their
    datasets may join; pinned by ``sha256`` (of the text), checked against the text."""

    text: AgreementText
    sha256: Sha256

    @model_validator(mode="after")
    def _pinned(self) -> MembershipAgreement:
        if agreement_sha256(self.text) != self.sha256:
            raise ValueError("sha256 does not match the agreement's text")
        return self


class AutoApprovalRule(_Schema):
    """When a benchmark approves an association at request time, on its owner's behalf:
    ``never`` (the default), ``always``, or for the ``users`` on an allowlist."""

    mode: AutoApprovalMode = AutoApprovalMode.NEVER
    users: list[Name] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _users_for_allowlist_only(self) -> AutoApprovalRule:
        if self.mode is AutoApprovalMode.ALLOWLIST and not self.users:
            raise ValueError("users: an allowlist names at least one user")
        if self.mode is not AutoApprovalMode.ALLOWLIST and self.users:
            raise ValueError(f"users: only an allowlist names users, not {self.mode.value}")
        if len(set(self.users)) != len(self.users):
            raise ValueError("users: name each user once")
        return self


class AgreementAcceptanceCreate(_Schema):
    """A data owner accepts the agreement they were shown, named by its hash."""

    sha256: Sha256


class AgreementAcceptancePublic(_Schema):
    benchmark_id: int
    username: str
    sha256: str
    accepted_at: datetime


class DataPolicy(_Schema):
    """A data owner's terms on a dataset's association with a benchmark.

    ``model_owners``: the only model owners whose models may run on it (None: any model
    the benchmark's committee approves). ``max_runs``: how many times one model may be
    executed on it, counting every result uploaded for it, succeeded or failed (None:
    unlimited). ``expires_on``: from this day (UTC) on, nothing new runs on it and no new
    result is accepted (None: no expiry). Evaluated by ``medval.trust.data_policy``.
    """

    model_owners: list[Name] | None = Field(default=None, max_length=1000)
    max_runs: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
    expires_on: date | None = None


class DatasetTermsPublic(_Schema):
    """A dataset's policy on a benchmark, as one party sees it: the data owner and the
    benchmark owner see it whole; a model owner sees the clauses that concern them (the
    allowlist shows them alone, or no one)."""

    association_id: int
    benchmark_id: int
    dataset_id: int
    dataset: str
    status: ApprovalStatus
    policy: DataPolicy
