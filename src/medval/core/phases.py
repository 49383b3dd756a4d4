"""A benchmark's phases (issue 19): the rounds a committee runs it in, and how each
phase's results are published.

A benchmark has one or more phases, each with its dates (``opens_at``, and optionally
``closes_at``), optionally its own evaluator, reference model and demo data (None: the
benchmark's), and its publication mode. Every result belongs to the phase that was open
when it was uploaded (:func:`phase_open_at`); no phase open, no upload. A phase closed by
the committee (``closed_at``) is frozen: its leaderboard is archived, with the content
hash of its canonical JSON (``board_hash``). A benchmark registered as before gets one
phase, :data:`DEFAULT_PHASE`, open from its registration with no end.

The schemas of the API (``PhaseCreate``/``PhasePublic``, a publication decision) and the
rules that only need them (open, overlapping). Imports only pydantic and the core.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from medval.core.documents import no_nul
from medval.core.errors import InvalidInput
from medval.core.quotas import PhaseQuotas
from medval.core.schema_types import Id, Name, Schema, Sha256

# The phase every benchmark gets at registration (and every benchmark registered before
# phases, by revision 0017): open from then on, with no end.
DEFAULT_PHASE = "main"


class PublicationMode(StrEnum):
    """How a phase's results are published."""

    AUTOMATIC = "automatic"  # by the benchmark's release policy, as every result before
    HELD = "held"  # each result waits for the committee to publish or withhold it


class ResultPublication(StrEnum):
    """Where a result stands in its phase's publication."""

    AUTOMATIC = "automatic"  # released by the release policy (an automatic phase)
    HELD = "held"  # waits for the committee: only it and the uploader see it
    PUBLISHED = "published"  # published by the committee: the release policy applies
    WITHHELD = "withheld"  # withheld by the committee, with a reason the model owner sees

    @property
    def shown(self) -> bool:
        """Released by the release policy (pooled on the board, shown per its rules)."""
        return self in (ResultPublication.AUTOMATIC, ResultPublication.PUBLISHED)


def publication_on_upload(mode: PublicationMode) -> ResultPublication:
    return ResultPublication.HELD if mode is PublicationMode.HELD else ResultPublication.AUTOMATIC


def phase_time(text: str, what: str) -> datetime:
    """An ISO date (``2027-01-01``: its midnight, UTC) or date and time (UTC unless it
    says its zone), as a phase's dates are given on the command line; else one line."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{what} {text[:40]!r} is not an ISO date: give e.g. 2027-01-01 or 2027-01-01T09:00Z"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{what}: give a time zone (an aware time), e.g. 2027-01-01T00:00Z")
    return value


class PhaseCreate(PhaseQuotas):
    """A new phase; its quotas (``core.quotas``) too, None: no limit."""

    name: Name
    opens_at: datetime
    closes_at: datetime | None = None  # None: open until the committee closes it
    # None: the benchmark's own.
    evaluator_id: Id | None = None
    reference_model_id: Id | None = None
    demo_data_hash: Sha256 | None = None
    publication: PublicationMode = PublicationMode.AUTOMATIC

    @model_validator(mode="after")
    def _closes_after_it_opens(self) -> PhaseCreate:
        _aware(self.opens_at, "opens_at")
        _aware(self.closes_at, "closes_at")
        if self.closes_at is not None and self.closes_at <= self.opens_at:
            # Its own error type, so the one line is this sentence ("Value error, " not
            # before it), on the API and on the command line alike.
            raise PydanticCustomError(
                "phase_dates",
                f"phase {self.name} closes ({self.closes_at.isoformat()}) before it opens "
                f"({self.opens_at.isoformat()})",
            )
        return self


class PhaseDates(Schema):
    """The committee's change of a phase's dates: a date left out stays as it is;
    ``closes_at`` given as null: open until the committee closes it. Sent with only the
    dates given."""

    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @model_validator(mode="after")
    def _something_aware(self) -> PhaseDates:
        if not self.model_fields_set:
            raise PydanticCustomError(
                "phase_dates", "give a new opens_at or closes_at (or no end): nothing to change"
            )
        if "opens_at" in self.model_fields_set and self.opens_at is None:
            raise PydanticCustomError("phase_dates", "a phase opens at a date: opens_at is null")
        _aware(self.opens_at, "opens_at")
        _aware(self.closes_at, "closes_at")
        return self

    @model_serializer(mode="wrap")
    def _only_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {name: value for name, value in data.items() if name in self.model_fields_set}


class PhasePublic(PhaseQuotas):
    id: Id
    benchmark_id: Id
    name: str
    opens_at: datetime
    closes_at: datetime | None = None
    evaluator_id: int | None = None
    reference_model_id: int | None = None
    demo_data_hash: str | None = None
    publication: PublicationMode = PublicationMode.AUTOMATIC
    created_at: datetime
    # Closed by the committee: frozen, its leaderboard archived with this content hash
    # (sha256 of its canonical JSON, ``medval.trust.canonical``).
    closed_at: datetime | None = None
    board_hash: str | None = None
    # The committee's order of the phase's models, most important first (core.quotas).
    model_priorities: list[int] = Field(default_factory=list)


class PhaseState(StrEnum):
    """Where a phase stands now."""

    UPCOMING = "upcoming"  # not open yet
    OPEN = "open"  # takes results
    # Past its end date but not closed by the committee: it takes no new results, but its
    # board is live, not archived (held results may still be published); closing it
    # archives the board. Never closed automatically.
    ENDED = "ended"
    CLOSED = "closed"  # closed by the committee: frozen, its board archived


class PhaseShown(PhasePublic):
    """A phase as listed and shown: with where it stands now."""

    state: PhaseState


def phase_state(phase: Dated, now: datetime) -> PhaseState:
    if phase.closed_at is not None:
        return PhaseState.CLOSED
    if now < phase.opens_at:
        return PhaseState.UPCOMING
    if phase.closes_at is not None and now >= phase.closes_at:
        return PhaseState.ENDED
    return PhaseState.OPEN


def shown(phase: PhasePublic, now: datetime) -> PhaseShown:
    return PhaseShown(**phase.model_dump(), state=phase_state(phase, now))


class PublicationDecision(Schema):
    """The committee's decision on a held result: withholding needs a reason, which the
    model's owner sees."""

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("reason")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return no_nul(value.strip()) or None


class Dated(Protocol):
    """What the rules of phases read of one (a ``PhasePublic``, a row of pending work)."""

    @property
    def opens_at(self) -> datetime: ...
    @property
    def closes_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


_Phase = TypeVar("_Phase", bound=Dated)


def is_open(phase: Dated, now: datetime) -> bool:
    """Open at ``now``: opened, not past its end, not closed by the committee."""
    if phase.closed_at is not None or now < phase.opens_at:
        return False
    return phase.closes_at is None or now < phase.closes_at


def phase_open_at(phases: Iterable[_Phase], now: datetime) -> _Phase | None:
    """The phase open at ``now`` (phases do not overlap, so at most one)."""
    return next((phase for phase in phases if is_open(phase, now)), None)


def ends_at(phase: Dated) -> datetime | None:
    """When it ends: its end date, or when it was closed if that came first."""
    ends = [t for t in (phase.closes_at, phase.closed_at) if t is not None]
    return min(ends) if ends else None


def overlapping(
    phases: Sequence[_Phase], opens_at: datetime, closes_at: datetime | None
) -> _Phase | None:
    """The first of ``phases`` whose time overlaps [opens_at, closes_at) (None: no end)."""
    for phase in phases:
        phase_end = ends_at(phase)
        starts_before_it_ends = phase_end is None or opens_at < phase_end
        ends_after_it_starts = closes_at is None or phase.opens_at < closes_at
        if starts_before_it_ends and ends_after_it_starts:
            return phase
    return None


def latest(phases: Sequence[_Phase]) -> _Phase | None:
    """The phase opened last (the current one, or the last one before it)."""
    return max(phases, key=lambda phase: phase.opens_at, default=None)
