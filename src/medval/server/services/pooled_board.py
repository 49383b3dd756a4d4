"""Pooling a benchmark's results into its board: what every caller's leaderboard is made
from (``kept_boards.PooledBoard``), before anything is released to anyone.

The benchmark's declared metrics are pooled and shown, in the declared order, each on its
declared scale (a proportion from the sites' counts where its declared count, ``of``,
determines it: :mod:`medval.stats.pooling`); the declared primary metric ranks, in its
declared direction. A benchmark that declares none (registered before declarations) shows
every metric its evaluator reports, as :func:`~medval.core.declarations.inferred_metrics`
declares them. A site whose value is missing (NaN at the site) is not pooled; a metric
missing at every site has no pooled value. The pooled case count is None unless every
site reported one.

Only succeeded executions are pooled; failed ones are counted (``n_failed``), so that a
model that fails at some sites does not look as if it had been run at fewer.

A model with results from fewer sites than the benchmark's ``min_sites`` has no pooled
figure and no case count on the board of anyone but the benchmark owner; ``withheld``
says why (:mod:`medval.server.services.release`). So each board is ranked twice: as the
owner sees it, and as everyone else does.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from medval.core.declarations import MetricDeclaration, inferred_metrics, primary_of
from medval.core.documents import MetricValue
from medval.core.result_schemas import LeaderboardEntry
from medval.server.services.kept_boards import PooledBoard
from medval.server.services.release import is_released
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, CubeRecord, LeaderboardRow
from medval.stats.pooling import SiteCounts, pool_metric
from medval.stats.ranks import Estimate, rank_models


def pooled_board(
    tx: StoreTransaction,
    benchmark: BenchmarkRecord,
    rows: list[LeaderboardRow],
    earlier: PooledBoard | None = None,
    entries_made: dict[int, int] | None = None,
) -> PooledBoard:
    """The board of ``benchmark`` from its results ``rows`` (and its models, read here).
    A model whose results and cube are those an ``earlier`` board of the benchmark pooled
    keeps its pooled entry from there: pooling is a function of them (and the declared
    metrics), so it would give the same figures again. ``entries_made``: how many entries
    the owner of each model on the board made in its phase (``services.quotas``; 1 if not
    given)."""
    by_model: dict[int, list[LeaderboardRow]] = defaultdict(list)
    for row in rows:
        by_model[row.model_id].append(row)
    declared = declared_metrics(benchmark, rows)
    pooled_before = earlier.pooled_entries(declared) if earlier is not None else {}
    owner_entries, others_entries, inputs = [], [], {}
    for model_id, model_rows in by_model.items():
        model = tx.cube(model_id)
        inputs[model_id] = _inputs(model_rows, model)
        before = pooled_before.get(model_id)
        if before is not None and before.inputs == inputs[model_id]:
            released = before.entry
        else:
            released = _entry(benchmark, model_rows, model, declared)
        made = (entries_made or {}).get(model_id, 1)
        if released.n_entries != made:
            released = released.model_copy(update={"n_entries": made})
        owner_entries.append(released)
        others_entries.append(_withheld(benchmark, released))
    return PooledBoard(
        declared=declared,
        owner_entries=_ranked(owner_entries, declared),
        others_entries=_ranked(others_entries, declared),
        inputs=inputs,
    )


def _inputs(rows: list[LeaderboardRow], model: CubeRecord | None) -> bytes:
    """A digest of what a model's entry is pooled from: its results in order (each site,
    and its document as stored) and its cube (name, owner, invalidation)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update((model.model_dump_json() if model else "").encode())
    for row in rows:
        # Lengths first, so that no two sequences of texts run together the same way.
        text = row.document_json.encode() if row.document_json is not None else b""
        marker = b"-" if row.document_json is None else b"+"
        digest.update(b"%d %d %s\n" % (row.dataset_id, len(text), marker) + text)
    return digest.digest()


def declared_metrics(
    benchmark: BenchmarkRecord, rows: Iterable[LeaderboardRow]
) -> list[MetricDeclaration]:
    """The benchmark's declared metrics, or (declaring none) every metric its results
    report, in the evaluator's order, as inferred."""
    if benchmark.metrics:
        return list(benchmark.metrics)
    return inferred_metrics(
        [name for r in rows if r.document is not None for name in r.document.metrics]
    )


def _entry(
    benchmark: BenchmarkRecord,
    rows: list[LeaderboardRow],
    model: CubeRecord | None,
    declared: list[MetricDeclaration],
) -> LeaderboardEntry:
    """The model's entry with every pooled figure (as the benchmark owner sees it)."""
    documents = [row.document for row in rows if row.document is not None]
    by_name = {m.name: m for m in declared}
    values: dict[str, list[MetricValue]] = defaultdict(list)
    counts: dict[str, list[SiteCounts | None]] = defaultdict(list)
    for document in documents:
        for name, value in document.metrics.items():
            if value.value is not None and name in by_name:
                values[name].append(value)
                counts[name].append(SiteCounts(document.n_cases, document.n_positive))
    return LeaderboardEntry(
        model_id=rows[0].model_id,
        model=rows[0].model,
        model_owner=model.owner if model else "",
        model_invalidated_at=model.invalidated_at if model else None,
        n_sites=len({row.dataset_id for row in rows if row.document is not None}),
        n_failed=len(rows) - len(documents),
        n_cases=_total(document.n_cases for document in documents),
        pooled={
            name: pool_metric(name, values[name], counts[name], declared=by_name[name])
            for name in by_name
            if values[name]
        },
    )


def _withheld(benchmark: BenchmarkRecord, entry: LeaderboardEntry) -> LeaderboardEntry:
    """The entry as anyone but the benchmark owner sees it: below min_sites, no pooled
    figure and no case count. Nothing to withhold without a succeeded site (failures are
    counted, never pooled)."""
    if entry.n_sites == 0 or is_released(benchmark, entry.n_sites):
        return entry
    return entry.model_copy(
        update={
            "n_cases": None,
            "pooled": {},
            "withheld": (
                f"results from {entry.n_sites} site(s), fewer than the {benchmark.min_sites} "
                "this benchmark releases pooled figures from"
            ),
        }
    )


def _total(counts: Iterable[int | None]) -> int | None:
    known = list(counts)
    return None if any(n is None for n in known) else sum(n for n in known if n is not None)


def _ranked(
    entries: list[LeaderboardEntry], declared: list[MetricDeclaration]
) -> list[LeaderboardEntry]:
    """Best primary metric first, models without it last, by name; each with its rank,
    rank interval and tie (:mod:`medval.stats.ranks`), by the declared primary metric:
    its direction and its pooling scale."""
    ranking = primary_of(declared)
    primary = ranking.name if ranking else None
    higher = ranking.higher_is_better if ranking else True
    entries = sorted(entries, key=lambda entry: _rank(entry, primary, higher))
    if ranking is None:
        return entries
    pooled = [entry.pooled.get(ranking.name) for entry in entries]
    infos = rank_models(
        ranking.name,
        [Estimate(p.value, p.lower, p.upper) if p else Estimate(None, None, None) for p in pooled],
        ranking.higher_is_better,
        declared=ranking,
    )
    return [
        entry.model_copy(
            update={
                "rank": info.rank,
                "rank_lower": info.rank_lower,
                "rank_upper": info.rank_upper,
                "tied": info.tied,
                "p_first": info.p_first,
            }
        )
        for entry, info in zip(entries, infos, strict=True)
    ]


def _rank(entry: LeaderboardEntry, primary: str | None, higher: bool) -> tuple[bool, float, str]:
    best = entry.pooled.get(primary) if primary else None
    value = best.value if best else 0.0
    return (best is None, -value if higher else value, entry.model)
