"""A phase's quotas, the entry that counts and the committee's priorities (issue 19,
``core.quotas``): what stops a vendor tuning its model to the hospitals' hidden data.

- The committee (the benchmark's owner; an admin too) sets a phase's quotas and orders
  its models (:func:`set_quotas`, :func:`set_priorities`).
- A model owner's entries in a phase are its models approved on the benchmark (and, when
  it asks, waiting for approval) or with a result in the phase; the benchmark's and the
  phase's reference models are the committee's, never an entry. While the phase is open,
  an association that would give an owner more entries than ``max_models_per_owner`` is
  refused, at request and at approval (:func:`require_model_quota`).
- A site (a dataset owner) uploads at most ``max_executions_per_site_per_day`` results a
  UTC day in the phase (:func:`require_upload_quota`); its pending work says how many are
  left (:func:`site_quotas`), so that ``medval run`` starts no more.
- In a phase with a models quota, a model owner chooses which of its entries counts on
  the phase's board (:func:`choose_counting_entry`), while the phase is open and before
  any of its entries has a result in it: once one has, the choice (or the default, the
  entry approved first) stands, so it cannot pick its best variant after seeing how the
  hidden data scored them. The board keeps only that one per owner, with how many
  entries the owner made (:func:`counting_rows`). A phase without one shows every model,
  as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from medval.core.errors import InvalidInput, InvalidTransition, NotFound
from medval.core.phases import is_open, phase_open_at
from medval.core.quotas import (
    CountingEntryChoice,
    ModelPriorities,
    QuotaChange,
    day_of,
    default_counting,
    quota_left,
)
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.permissions import require_owner, require_owner_or_admin
from medval.server.services.phase_boards import named_phase
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    BenchmarkRecord,
    CountingEntryRecord,
    LeaderboardRow,
    PhaseRecord,
    UserRecord,
)

# --- the committee's --------------------------------------------------------------------


def _committee_phase(
    tx: StoreTransaction, caller: UserRecord, benchmark_id: int, name: str | None, now: datetime
) -> tuple[BenchmarkRecord, PhaseRecord]:
    benchmark = visible_benchmark(tx, caller, benchmark_id)
    require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
    return benchmark, _phase(tx, benchmark, name, now)


def _phase(
    tx: StoreTransaction, benchmark: BenchmarkRecord, name: str | None, now: datetime
) -> PhaseRecord:
    """The phase named ``name``, or (None) the one open now; a closed one is frozen."""
    if name is not None:
        phase = named_phase(tx, benchmark, name)
    else:
        found = phase_open_at(tx.list_phases(benchmark.id), now)
        if found is None:
            raise InvalidTransition(
                f"benchmark {benchmark.name} has no phase open now: name one (--phase)"
            )
        phase = found
    if phase.closed_at is not None:
        raise InvalidTransition(
            f"phase {phase.name} of benchmark {benchmark.name} is closed: it is frozen"
        )
    return phase


def set_quotas(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, name: str, quotas: QuotaChange
) -> PhaseRecord:
    """Both quotas at once (None: no limit); entries and uploads already made stay."""
    with ctx.transaction(caller) as tx:
        _, phase = _committee_phase(tx, caller, benchmark_id, name, ctx.clock())
        return tx.set_phase_quotas(phase.id, quotas)


def set_priorities(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, body: ModelPriorities
) -> PhaseRecord:
    """The committee's order of the phase's models: each one an entry of the phase."""
    now = ctx.clock()
    with ctx.transaction(caller) as tx:
        benchmark, phase = _committee_phase(tx, caller, benchmark_id, body.phase, now)
        entered = _phase_models(tx, benchmark, phase)
        for model_id in body.model_ids:
            model = tx.cube(model_id)
            if model is None or model.kind is not CubeKind.MODEL:
                raise NotFound(f"model {model_id} does not exist")
            if model_id not in entered:
                raise InvalidInput(
                    f"model {model.name} ({model_id}) is not in phase {phase.name} of benchmark "
                    f"{benchmark.name}: only its approved models are ordered"
                )
        return tx.set_model_priorities(phase.id, body.model_ids)


def _phase_models(tx: StoreTransaction, benchmark: BenchmarkRecord, phase: PhaseRecord) -> set[int]:
    """Every model of the phase: approved on the benchmark, or with a result in it."""
    approved = tx.list_associations(benchmark.id, AssociationKind.MODEL, ApprovalStatus.APPROVED)
    ran = {r.model_id for r in tx.leaderboard_rows(benchmark.id, phase.id)}
    return {a.entity_id for a in approved} | ran


# --- a model owner's entries ------------------------------------------------------------


def owner_entries(
    tx: StoreTransaction,
    benchmark: BenchmarkRecord,
    phase: PhaseRecord,
    owner_id: int,
    waiting_too: bool = False,
) -> set[int]:
    """The owner's models entered in the phase: approved on the benchmark (and pending,
    ``waiting_too``), or with a result in it; never a reference model (the committee's)."""
    statuses = {ApprovalStatus.APPROVED} | ({ApprovalStatus.PENDING} if waiting_too else set())
    associated = {
        a.entity_id
        for a in tx.list_associations(benchmark.id, AssociationKind.MODEL)
        if a.entity_owner_id == owner_id and a.status in statuses
    }
    references = {benchmark.reference_model_id, phase.reference_model_id}
    return (associated | tx.phase_entrants(phase.id, owner_id)) - references


def require_model_quota(
    tx: StoreTransaction,
    benchmark: BenchmarkRecord,
    model_id: int,
    owner_id: int,
    now: datetime,
    waiting_too: bool,
) -> None:
    """While a phase is open, one more entry of the owner's (``model_id``) within its
    ``max_models_per_owner``; else one line naming the entries it has."""
    phase = phase_open_at(tx.list_phases(benchmark.id), now)
    if phase is None or phase.max_models_per_owner is None:
        return
    if model_id in {benchmark.reference_model_id, phase.reference_model_id}:
        return
    others = owner_entries(tx, benchmark, phase, owner_id, waiting_too) - {model_id}
    if len(others) < phase.max_models_per_owner:
        return
    names = ", ".join(sorted(_model_name(tx, i) for i in others)) or "none"
    raise InvalidTransition(
        f"phase {phase.name} of benchmark {benchmark.name} takes {phase.max_models_per_owner} "
        f"model(s) per owner, and this owner has entered {len(others)} ({names}): no other "
        "model of theirs may enter it"
    )


def _model_name(tx: StoreTransaction, model_id: int) -> str:
    cube = tx.cube(model_id)
    return cube.name if cube is not None else str(model_id)


def choose_counting_entry(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, body: CountingEntryChoice
) -> CountingEntryRecord:
    """The caller's entry that counts on the phase's board: a model of its own entered in
    the phase (named, or the one open now), while the phase is open and none of the
    caller's entries has a result in it yet."""
    now = ctx.clock()
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        model = visible_cube(tx, caller, body.model_id)
        require_owner(caller, model.owner_id, f"model {model.name}", "choose it as an entry")
        phase = _phase(tx, benchmark, body.phase, now)
        if phase.max_models_per_owner is None:
            raise InvalidTransition(
                f"phase {phase.name} of benchmark {benchmark.name} has no quota of models per "
                "owner: each of your models counts on its board"
            )
        if not is_open(phase, now):
            raise InvalidTransition(
                f"phase {phase.name} of benchmark {benchmark.name} is not open: an entry is "
                "chosen while it is"
            )
        if model.id not in owner_entries(tx, benchmark, phase, caller.id):
            raise InvalidInput(
                f"model {model.name} ({model.id}) is not an entry of yours in phase {phase.name} "
                f"of benchmark {benchmark.name}: it needs its association approved first"
            )
        _require_no_result_yet(tx, benchmark, phase, caller.id)
        return tx.choose_counting_entry(phase.id, caller.id, model.id, now)


def _require_no_result_yet(
    tx: StoreTransaction, benchmark: BenchmarkRecord, phase: PhaseRecord, owner_id: int
) -> None:
    """The entry that counts is chosen blind: while none of the owner's entries has a
    result in the phase (held or withheld ones too). Once one has, a choice (or the
    default, the one approved first) stands; choosing after seeing results would be
    tuning to the hospitals' hidden data."""
    ran = tx.phase_entrants(phase.id, owner_id)
    if not ran:
        return
    counts: dict[int, int] = defaultdict(int)  # in the order their first result came
    for result in tx.list_results(benchmark.id, phase_id=phase.id):
        if result.model_id in ran:
            counts[result.model_id] += 1
    first = max(counts, key=counts.__getitem__)  # the most results; a tie: the first sent
    chosen = {e.owner_id: e.model_id for e in tx.counting_entries(phase.id)}.get(owner_id)
    if chosen is None:
        approved_at = _first_approvals(tx, benchmark, ran)
        chosen = default_counting((model_id, approved_at.get(model_id)) for model_id in ran)
    counts_now = f"; model {_model_name(tx, chosen)} counts" if chosen is not None else ""
    raise InvalidTransition(
        f"the entry that counts in phase {phase.name} of benchmark {benchmark.name} is chosen "
        f"before any of your entries has a result: model {_model_name(tx, first)} already has "
        f"{counts[first]}{counts_now}"
    )


# --- the board's entries ----------------------------------------------------------------


@dataclass(frozen=True)
class CountedRows:
    """A phase's results as its board pools them: only each owner's counting entry's, and
    how many entries each owner made (by model id of the one that counts)."""

    rows: list[LeaderboardRow]
    entries_made: dict[int, int] = field(default_factory=dict)


def counting_rows(
    tx: StoreTransaction,
    benchmark: BenchmarkRecord,
    phase: PhaseRecord,
    rows: list[LeaderboardRow],
) -> CountedRows:
    """In a phase with a models quota: of each model owner's models on the board, the one
    it chose; none chosen, the one approved first (``core.quotas.default_counting``). An
    owner whose chosen entry has no result on the board yet is not on it. A phase without
    one shows every model, as a benchmark did before quotas."""
    if phase.max_models_per_owner is None:
        return CountedRows(rows, {})
    models_of: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.model_id not in models_of[row.model_owner_id]:
            models_of[row.model_owner_id].append(row.model_id)
    chosen = {entry.owner_id: entry.model_id for entry in tx.counting_entries(phase.id)}
    undecided = [ms for owner, ms in models_of.items() if len(ms) > 1 and owner not in chosen]
    if not undecided and not chosen.keys() & models_of.keys():
        return CountedRows(rows, {})
    approved_at = _first_approvals(tx, benchmark, {m for ms in undecided for m in ms})
    counting: dict[int, int | None] = {
        owner: chosen.get(owner)
        or default_counting((model_id, approved_at.get(model_id)) for model_id in models)
        for owner, models in models_of.items()
    }
    kept = [row for row in rows if counting[row.model_owner_id] == row.model_id]
    made = {
        model_id: len(models_of[owner])
        for owner, model_id in counting.items()
        if model_id is not None
    }
    return CountedRows(kept, made)


def _first_approvals(
    tx: StoreTransaction, benchmark: BenchmarkRecord, model_ids: Collection[int]
) -> dict[int, datetime]:
    """When each model's association with the benchmark was first approved."""
    found: dict[int, datetime] = {}
    for association in tx.list_associations(benchmark.id, AssociationKind.MODEL):
        if association.entity_id not in model_ids:
            continue
        approvals = [e.at for e in association.history if e.status is ApprovalStatus.APPROVED]
        if approvals:
            found[association.entity_id] = min(approvals)
    return found


# --- a site's pending work --------------------------------------------------------------


@dataclass(frozen=True)
class SiteQuota:
    """What a site's pending work says of an open phase: its priorities (model id: rank,
    1 first) and how many results the site may still upload today (None: no limit)."""

    priorities: dict[int, int]
    left_today: int | None


def site_quotas(
    tx: StoreTransaction, uploader_id: int, phase_ids: Iterable[int], now: datetime
) -> dict[int, SiteQuota]:
    """For each of the open ``phase_ids``: its priorities and the site's quota left today."""
    ids = sorted(set(phase_ids))
    start, end = day_of(now)
    uploaded = tx.uploads_between(uploader_id, ids, start, end)
    rules = tx.work_rules(ids)
    quotas: dict[int, SiteQuota] = {}
    for phase_id in ids:
        found = rules.get(phase_id)
        order = found.model_priorities if found else []
        limit = found.max_executions_per_site_per_day if found else None
        ranks = {model_id: rank for rank, model_id in enumerate(order, 1)}
        quotas[phase_id] = SiteQuota(ranks, quota_left(limit, uploaded.get(phase_id, 0)))
    return quotas


def require_upload_quota(
    tx: StoreTransaction,
    benchmark: BenchmarkRecord,
    phase: PhaseRecord,
    uploader: UserRecord,
    now: datetime,
) -> None:
    """One more upload by this site today within the phase's daily quota; else one line."""
    limit = phase.max_executions_per_site_per_day
    if limit is None:
        return
    start, end = day_of(now)
    used = tx.uploads_between(uploader.id, [phase.id], start, end)[phase.id]
    if used >= limit:
        raise InvalidTransition(
            f"phase {phase.name} of benchmark {benchmark.name} takes {limit} result(s) per site "
            f"a day, and {uploader.username} uploaded {used} today: upload again after "
            f"{end:%Y-%m-%d %H:%M} UTC"
        )
