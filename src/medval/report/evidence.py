"""What a report is made of: the server's answers, as released to the reader, and where
and when they were read. ``report.json`` is this, in full."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from medval.core.result_schemas import LeaderboardPublic
from medval.core.schemas import BenchmarkPublic
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic


class Source(BaseModel):
    """One answer the report was made from: what it holds and the API path read."""

    model_config = ConfigDict(extra="forbid")

    holds: str
    path: str


class Provenance(BaseModel):
    """Where every number came from: the server, the reader (whose release rules applied),
    when, and with which medval (which pooled, ranked and suppressed them)."""

    model_config = ConfigDict(extra="forbid")

    server: str
    reader: str | None  # None: read anonymously (public releases only)
    read_at: datetime
    medval_version: str
    sources: list[Source]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provenance: Provenance
    benchmark: BenchmarkPublic
    leaderboard: LeaderboardPublic
    subgroups: BenchmarkSubgroupsPublic
    shift: BenchmarkShiftPublic
