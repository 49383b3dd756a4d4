"""A phase's quotas, the entry that counts, and the committee's priorities (issue 19):
what stops a vendor tuning its model to the hospitals' hidden data.

- **Quotas** (per phase, ``PhaseQuotas``): how many models a model owner may enter into
  the phase (``max_models_per_owner``), and how many results a site (a dataset owner)
  may upload per day in it (``max_executions_per_site_per_day``); None: no limit. Set when
  the phase is added (``PhaseCreate`` carries them) or later by the committee.
- **The entry that counts** (``CountingEntryChoice``): of a model owner's entries in a
  phase with a models quota, the one its leaderboard ranks; the board says how many
  entries the owner made. Until the owner chooses, the entry approved first counts
  (:func:`default_counting`). The owner chooses (or changes its choice) only while none
  of its entries has a result in the phase: once one has, the choice (or the default)
  stands, so no owner picks its best variant after seeing the hidden data's results. A
  phase without a models quota shows every model.
- **Priorities** (``ModelPriorities``): the committee's order of the phase's models; a
  site's ``medval run`` runs them in that order, the others after (:func:`run_order`).

Imports only pydantic and the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from medval.core.schema_types import Id, Name, Schema

# A quota is a count: zero or more (None: no limit).
Quota = Annotated[int, Field(ge=0, le=1_000_000)]

_Item = TypeVar("_Item")


class PhaseQuotas(Schema):
    """A phase's quotas; None: no limit."""

    # How many models one model owner may enter into the phase (an entry: a model of its
    # approved on the benchmark while the phase is open, or with a result in the phase).
    max_models_per_owner: Quota | None = None
    # How many results one site (a dataset owner) may upload per UTC day in the phase.
    max_executions_per_site_per_day: Quota | None = None


class QuotaChange(PhaseQuotas):
    """The committee's change of a phase's quotas: a quota left out stays as it is; one
    given as null is no limit any more. Sent with only the quotas given."""

    @model_serializer(mode="wrap")
    def _only_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {name: value for name, value in data.items() if name in self.model_fields_set}


class CountingEntryChoice(Schema):
    """A model owner's choice of its entry that counts in a phase (None: the open one)."""

    model_id: Id
    phase: Name | None = None


class CountingEntryPublic(Schema):
    phase_id: Id
    phase: str
    owner: str
    model_id: Id
    model: str
    chosen_at: datetime


class ModelPriorities(Schema):
    """The committee's order of a phase's models, most important first (None: the open
    phase); models not named run after, in the order they ran before."""

    model_ids: list[Id] = Field(max_length=1000)
    phase: Name | None = None

    @field_validator("model_ids")
    @classmethod
    def _once_each(cls, value: list[int]) -> list[int]:
        twice = sorted({i for i in value if value.count(i) > 1})
        if twice:
            raise ValueError(f"model(s) {', '.join(map(str, twice))} named more than once")
        return value


def day_of(now: datetime) -> tuple[datetime, datetime]:
    """The UTC day ``now`` falls in, as [start, end): a daily quota's window."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def quota_left(quota: int | None, used: int) -> int | None:
    """How many more a quota allows (never below zero); None: no limit."""
    return None if quota is None else max(quota - used, 0)


def default_counting(entries: Iterable[tuple[int, datetime | None]]) -> int | None:
    """The entry that counts when its owner chose none: of ``(model_id, first approved
    at)``, the one approved first (never approved, after; then the lowest model id)."""
    ranked = sorted(
        entries, key=lambda e: (e[1] is None, e[1] or datetime.min.replace(tzinfo=UTC), e[0])
    )
    return ranked[0][0] if ranked else None


def run_order(
    items: Sequence[_Item],
    benchmark_of: Callable[[_Item], int],
    priority_of: Callable[[_Item], int | None],
) -> list[_Item]:
    """``items`` (in today's order: benchmark, dataset, model) with, within each
    benchmark, the models the committee ordered first, in its order (``priority_of``: 1 is
    the most important), then the others in today's order. Stable: ties keep their order."""
    first_seen: dict[int, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(benchmark_of(item), index)

    def key(item: _Item) -> tuple[int, bool, int]:
        rank = priority_of(item)
        return (first_seen[benchmark_of(item)], rank is None, rank or 0)

    return sorted(items, key=key)
