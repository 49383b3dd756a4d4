"""Kept boards: each benchmark's pooled leaderboard, kept by a server process until it
may have changed.

Pooling every model's results anew on every view took seconds at 1,000 sites x 50
models. What pooling gives is the same for every caller (``PooledBoard``); only what is
released to whom differs, and that is applied per request (``services.leaderboard``).
So each process keeps the pooled board of the benchmarks viewed lately, each under the
key it was made for: the benchmark's results revision (``StoreTransaction.
results_revision``, moved on in the same transaction as every change of what the board
shows of its results) and what else of the benchmark pooling and withholding go by (its
min_sites, its declared metrics). A view reads the revision from the database, in its
own transaction, and uses a kept board only under the same key; so a board is never
older than what the database holds, with any number of server processes, each keeping
its own.

Only one request per process makes a benchmark's board at a time; others asking for it
meanwhile wait for it rather than pool the same results again. And a new board pools
again only the models whose results (or cube) changed since the board kept before it:
after an upload, one model of fifty.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from medval.core.declarations import MetricDeclaration
from medval.core.result_schemas import LeaderboardEntry
from medval.server.store.records import BenchmarkRecord, UserRecord

KEPT_BENCHMARKS = 64  # boards kept per process, the least recently viewed dropped first


@dataclass(frozen=True)
class BoardKey:
    """What a pooled board was made from, besides the results: equal keys, equal boards."""

    results_revision: int
    min_sites: int
    metrics: tuple[MetricDeclaration, ...]

    @classmethod
    def of(cls, benchmark: BenchmarkRecord, results_revision: int) -> BoardKey:
        return cls(results_revision, benchmark.min_sites, tuple(benchmark.metrics))


@dataclass(frozen=True)
class PooledEntry:
    """A model's entry with every pooled figure, and a digest of what it was pooled from."""

    inputs: bytes
    entry: LeaderboardEntry


@dataclass(frozen=True)
class PooledBoard:
    """A benchmark's leaderboard as pooling makes it, the same for every caller: each
    model's entry pooled and ranked as the benchmark owner sees it (``owner_entries``,
    every pooled figure) and as everyone else does (``others_entries``, withheld below
    min_sites, ranked among what is shown); no entry carries its sites (released per
    caller)."""

    declared: list[MetricDeclaration]
    owner_entries: list[LeaderboardEntry]
    others_entries: list[LeaderboardEntry]
    # Each model's inputs (a digest of its results and its cube): the next board of the
    # benchmark pools again only the models whose inputs differ (services.pooled_board).
    inputs: dict[int, bytes] = field(default_factory=dict)

    def pooled_entries(self, declared: list[MetricDeclaration]) -> dict[int, PooledEntry]:
        """Each model's entry as pooled (every figure), by model id, with its inputs;
        none if the board pooled other metrics, or the same ones otherwise declared."""
        if declared != self.declared:
            return {}
        return {
            entry.model_id: PooledEntry(self.inputs[entry.model_id], entry)
            for entry in self.owner_entries
            if entry.model_id in self.inputs
        }

    def entries_for(
        self, caller: UserRecord | None, benchmark: BenchmarkRecord
    ) -> list[LeaderboardEntry]:
        """The entries ``caller`` sees (services.release: only the benchmark owner sees
        a pooled figure below min_sites)."""
        owner = caller is not None and caller.id == benchmark.owner_id
        return self.owner_entries if owner else self.others_entries


class KeptBoards:
    """The pooled boards one server process keeps (one per app: ``ServiceContext``)."""

    def __init__(self, size: int = KEPT_BENCHMARKS) -> None:
        self._size = size
        self._kept: OrderedDict[int, tuple[BoardKey, PooledBoard]] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[int, threading.Lock] = {}

    def board(
        self,
        benchmark_id: int,
        key: BoardKey,
        make: Callable[[PooledBoard | None], PooledBoard],
    ) -> PooledBoard:
        """The board kept under ``key``; else ``make(earlier)``'s, kept under ``key``
        (``earlier``: the benchmark's board kept under another key, if any, whose
        unchanged models need not be pooled again)."""
        found = self._find(benchmark_id, key)
        if found is not None:
            return found
        with self._lock:
            making = self._making.setdefault(benchmark_id, threading.Lock())
        with making:
            found = self._find(benchmark_id, key)  # made meanwhile by another request
            if found is not None:
                return found
            with self._lock:
                earlier = self._kept.get(benchmark_id)
            made = make(earlier[1] if earlier is not None else None)
            self._keep(benchmark_id, key, made)
            return made

    def _find(self, benchmark_id: int, key: BoardKey) -> PooledBoard | None:
        with self._lock:
            kept = self._kept.get(benchmark_id)
            if kept is None or kept[0] != key:
                return None
            self._kept.move_to_end(benchmark_id)
            return kept[1]

    def _keep(self, benchmark_id: int, key: BoardKey, board: PooledBoard) -> None:
        with self._lock:
            kept = self._kept.get(benchmark_id)
            # Never a board of an older revision over a newer one (a request that read
            # the revision before another's upload may finish making its board after).
            if kept is not None and kept[0].results_revision > key.results_revision:
                return
            self._kept[benchmark_id] = (key, board)
            self._kept.move_to_end(benchmark_id)
            while len(self._kept) > self._size:
                dropped, _ = self._kept.popitem(last=False)
                self._making.pop(dropped, None)
