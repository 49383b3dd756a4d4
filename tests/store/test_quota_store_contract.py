"""The store contract for a phase's quotas, the entry that counts and the committee's
priorities (issue 19): every backend passes these (SQLite, and PostgreSQL under the
``postgres`` marker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.world import NOW, SIGNED, H, benchmark_world, make_cube, make_user

from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.core.errors import NotFound
from medval.core.phases import PhaseCreate
from medval.core.quotas import QuotaChange
from medval.core.result_schemas import ResultCreate
from medval.core.states import CubeKind
from medval.server.store.interface import Store
from medval.server.store.quotas_interface import WorkRules

DOCUMENT = ResultDocument(n_cases=10, metrics={"auroc": MetricValue(value=0.8)})
DAY = timedelta(days=1)


def _result(ids: dict[str, int], model_id: int) -> ResultCreate:
    return ResultCreate(
        benchmark_id=ids["benchmark"],
        dataset_id=ids["dataset"],
        model_id=model_id,
        document=DOCUMENT,
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )


def test_quotas_are_set_with_a_phase_changed_later_and_audited(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        final = tx.add_phase(
            ids["benchmark"],
            PhaseCreate(
                name="final",
                opens_at=NOW + 30 * DAY,
                max_models_per_owner=2,
                max_executions_per_site_per_day=5,
            ),
            NOW,
        )
    assert (main.max_models_per_owner, main.max_executions_per_site_per_day) == (None, None)
    assert (final.max_models_per_owner, final.max_executions_per_site_per_day) == (2, 5)
    with store.transaction() as tx:
        changed = tx.set_phase_quotas(final.id, QuotaChange(max_models_per_owner=1))
        assert tx.phase(final.id) == changed
    with store.transaction() as tx:
        actions = [e.action for e in tx.list_audit_entries("phase", entity_ids=[str(final.id)])]
    # A quota not given is left as it was; one given as None is no limit any more.
    assert (changed.max_models_per_owner, changed.max_executions_per_site_per_day) == (1, 5)
    with store.transaction() as tx:
        cleared = tx.set_phase_quotas(final.id, QuotaChange(max_executions_per_site_per_day=None))
    assert (cleared.max_models_per_owner, cleared.max_executions_per_site_per_day) == (1, None)
    assert actions == ["phase.add", "phase.quotas"]
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.set_phase_quotas(9999, QuotaChange())


def test_priorities_are_stored_in_order_per_phase(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        final = tx.add_phase(ids["benchmark"], PhaseCreate(name="final", opens_at=NOW + DAY), NOW)
        assert tx.work_rules([main.id, final.id]) == {
            main.id: WorkRules([], None),
            final.id: WorkRules([], None),
        }
        ordered = tx.set_model_priorities(main.id, [7, 3, ids["model"]])
    assert ordered.model_priorities == [7, 3, ids["model"]]
    with store.transaction() as tx:
        tx.set_phase_quotas(final.id, QuotaChange(max_executions_per_site_per_day=4))
        assert tx.work_rules([main.id, final.id]) == {
            main.id: WorkRules([7, 3, ids["model"]], None),
            final.id: WorkRules([], 4),
        }
        assert tx.work_rules([]) == {}
        tx.set_model_priorities(main.id, [])
        assert tx.work_rules([main.id]) == {main.id: WorkRules([], None)}
    with store.transaction() as tx:
        actions = [e.action for e in tx.list_audit_entries("phase", entity_ids=[str(main.id)])]
    assert actions == ["phase.add", "phase.priorities", "phase.priorities"]


def test_entrants_and_uploads_are_counted_per_phase_owner_and_day(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        vendor = make_user(tx, "vendor")
        mine = [make_cube(tx, vendor, f"variant-{i}", CubeKind.MODEL).id for i in range(2)]
        tx.add_result(ids["owner"], _result(ids, mine[0]), NOW, main.id)
        tx.add_result(ids["owner"], _result(ids, mine[1]), NOW + DAY, main.id)
        tx.add_result(ids["owner"], _result(ids, ids["model"]), NOW + DAY, main.id)
        assert tx.phase_entrants(main.id, vendor.id) == set(mine)
        assert tx.phase_entrants(main.id, ids["owner"]) == {ids["model"]}
        assert tx.phase_entrants(9999, vendor.id) == set()
        day = NOW.replace(hour=0)
        assert tx.uploads_between(ids["owner"], [main.id], day, day + DAY) == {main.id: 1}
        assert tx.uploads_between(ids["owner"], [main.id], day + DAY, day + 2 * DAY) == {main.id: 2}
        assert tx.uploads_between(vendor.id, [main.id], day, day + 2 * DAY) == {main.id: 0}
        assert tx.uploads_between(ids["owner"], [], day, day + DAY) == {}


def test_a_counting_entry_is_chosen_once_per_owner_and_phase_and_moves_the_board(
    store: Store,
) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        vendor = make_user(tx, "vendor")
        first, second = (make_cube(tx, vendor, f"v{i}", CubeKind.MODEL) for i in range(2))
        revision = tx.results_revision(ids["benchmark"])
    with store.transaction() as tx:
        chosen = tx.choose_counting_entry(main.id, vendor.id, first.id, NOW)
    with store.transaction() as tx:
        again = tx.choose_counting_entry(main.id, vendor.id, second.id, NOW + DAY)
        assert tx.counting_entries(main.id) == [again]
        assert tx.counting_entries(9999) == []
        assert tx.results_revision(ids["benchmark"]) == revision + 1  # not moved yet
    with store.transaction() as tx:
        assert tx.results_revision(ids["benchmark"]) == revision + 2
        entries = tx.list_audit_entries("counting_entry", entity_ids=[str(chosen.id)])
    assert (chosen.model, chosen.owner, chosen.phase) == ("v0", "vendor", "main")
    assert (again.id, again.model_id, again.chosen_at) == (chosen.id, second.id, NOW + DAY)
    assert [e.action for e in entries] == ["counting_entry.add", "counting_entry.choose"]
