"""What the store hands back for one data owner's pending work, read in a fixed number of
queries (``StoreTransaction.pending_work``), whatever the number of rows.

Not whole records: only the fields the rules of pending work read (``services.executions``
and ``services.validity``), so that thousands of rows cost no ORM objects and no JSON
documents validated for nothing; named tuples, made straight from the database's rows.
Each carries ``invalidated_at`` and ``invalidated_by`` (``core.states.Invalidatable``), so
the rules of validity read it as they read a record. Imports only the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from medval.core.membership_schemas import DataPolicy
from medval.core.states import CubeKind, ExecutionStatus


class WorkBenchmark(NamedTuple):
    id: int
    name: str
    data_preparator_id: int
    evaluator_id: int
    invalidated_at: datetime | None
    invalidated_by: str | None


class WorkCube(NamedTuple):
    """A benchmark's preparation or evaluator cube, or an approved model."""

    id: int
    name: str
    kind: CubeKind
    owner: str
    archive_hash: str
    invalidated_at: datetime | None
    invalidated_by: str | None


class WorkDataset(NamedTuple):
    """An approved association of the owner's dataset with a benchmark: the dataset, and
    its policy there."""

    benchmark_id: int
    id: int
    name: str
    policy: DataPolicy
    invalidated_at: datetime | None
    invalidated_by: str | None


class WorkResult(NamedTuple):
    """A result of one of those datasets on its benchmark: whether it succeeded, and how
    many times it was uploaded."""

    benchmark_id: int
    dataset_id: int
    model_id: int
    status: ExecutionStatus
    runs: int
    phase_id: int  # the phase it was uploaded in: only the open phase's count as done


class WorkPhase(NamedTuple):
    """A phase of one of those benchmarks (``core.phases.Dated``): which one is open."""

    id: int
    benchmark_id: int
    opens_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    name: str
    evaluator_id: int | None  # None: the benchmark's


@dataclass(frozen=True)
class PendingWork:
    """The owner's approved dataset associations on approved benchmarks in operation, and
    what the rules need of those benchmarks; every list in the order of its associations."""

    datasets: list[WorkDataset] = field(default_factory=list)
    benchmarks: dict[int, WorkBenchmark] = field(default_factory=dict)
    # The benchmarks' preparation and evaluator cubes (what ``benchmark_blocker`` reads).
    cubes: dict[int, WorkCube] = field(default_factory=dict)
    # Each benchmark's approved models (its reference model among them).
    models: dict[int, list[WorkCube]] = field(default_factory=dict)
    results: list[WorkResult] = field(default_factory=list)
    # Each benchmark's phases, in the order they open: work waits only in the open one.
    phases: dict[int, list[WorkPhase]] = field(default_factory=dict)
