"""The store contract for benchmarks' phases and their results' publication (issue 19):
every backend passes these (SQLite, and PostgreSQL under the ``postgres`` marker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.world import NOW, SIGNED, H, benchmark_world, make_cube, make_user

from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.core.errors import Conflict, InvalidTransition
from medval.core.phases import (
    DEFAULT_PHASE,
    PhaseCreate,
    PublicationMode,
    ResultPublication,
)
from medval.core.result_schemas import ResultCreate
from medval.core.states import CubeKind
from medval.server.store.interface import Store

DOCUMENT = ResultDocument(n_cases=10, metrics={"auroc": MetricValue(value=0.8)})
DAY = timedelta(days=1)


def _result(ids: dict[str, int], **changes: object) -> ResultCreate:
    body = ResultCreate(
        benchmark_id=ids["benchmark"],
        dataset_id=ids["dataset"],
        model_id=ids["model"],
        document=DOCUMENT,
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )
    return body.model_copy(update=changes)


def test_a_benchmark_is_added_with_its_first_phase_open_from_then_with_no_end(
    store: Store,
) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (phase,) = tx.list_phases(ids["benchmark"])
        assert tx.phase(phase.id) == phase
        assert tx.phase_by_name(ids["benchmark"], DEFAULT_PHASE) == phase
        assert tx.phase_by_name(ids["benchmark"], "final") is None
        assert tx.phase(9999) is None
        assert tx.list_phases(9999) == []
    assert (phase.name, phase.benchmark_id, phase.opens_at) == ("main", ids["benchmark"], NOW)
    assert (phase.closes_at, phase.closed_at, phase.board_hash) == (None, None, None)
    assert phase.publication is PublicationMode.AUTOMATIC
    assert (phase.evaluator_id, phase.reference_model_id, phase.demo_data_hash) == (None,) * 3


def test_phases_are_listed_in_the_order_they_open_and_named_once_per_benchmark(
    store: Store,
) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        evaluator = make_cube(tx, make_user(tx, "bob"), "eval-2", CubeKind.EVALUATOR)
        final = tx.add_phase(
            ids["benchmark"],
            PhaseCreate(
                name="final",
                opens_at=NOW + 30 * DAY,
                closes_at=NOW + 60 * DAY,
                evaluator_id=evaluator.id,
                demo_data_hash="d" * 64,
                publication=PublicationMode.HELD,
            ),
            NOW,
        )
        tx.add_phase(ids["benchmark"], PhaseCreate(name="early", opens_at=NOW - DAY), NOW)
        assert [p.name for p in tx.list_phases(ids["benchmark"])] == ["early", "main", "final"]
    assert (final.evaluator_id, final.demo_data_hash) == (evaluator.id, "d" * 64)
    assert final.publication is PublicationMode.HELD
    assert final.closes_at == NOW + 60 * DAY
    taken = "a phase named 'final' of this benchmark already exists"
    with pytest.raises(Conflict, match=taken), store.transaction() as tx:
        tx.add_phase(ids["benchmark"], PhaseCreate(name="final", opens_at=NOW), NOW)
    with store.transaction() as tx:  # nothing stored was lost
        assert [p.name for p in tx.list_phases(ids["benchmark"])] == ["early", "main", "final"]


def test_a_result_belongs_to_the_phase_open_when_it_is_added(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        first = tx.add_result(ids["owner"], _result(ids), NOW + DAY)
    assert (first.phase_id, first.phase) == (main.id, "main")
    assert first.publication is ResultPublication.AUTOMATIC
    assert first.publication_reason is None
    with store.transaction() as tx:
        tx.close_phase(main.id, NOW + 2 * DAY, "{}", "0" * 64)
    with pytest.raises(InvalidTransition, match="has no phase open now"), store.transaction() as tx:
        tx.add_result(ids["owner"], _result(ids), NOW + 3 * DAY)


def test_each_phase_holds_its_own_result_of_a_model_on_a_dataset(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        final = tx.add_phase(ids["benchmark"], PhaseCreate(name="final", opens_at=NOW), NOW)
        in_main = tx.add_result(ids["owner"], _result(ids), NOW, main.id)
        in_final = tx.add_result(ids["owner"], _result(ids), NOW, final.id, ResultPublication.HELD)
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_result(ids["owner"], _result(ids), NOW, final.id)
    with store.transaction() as tx:
        by_phase = {
            phase.id: [r.id for r in tx.list_results(ids["benchmark"], phase_id=phase.id)]
            for phase in (main, final)
        }
        assert [r.id for r in tx.list_results(ids["benchmark"])] == [in_main.id, in_final.id]
        # A board reads one phase's results, and never a held one.
        assert len(tx.leaderboard_rows(ids["benchmark"], main.id)) == 1
        assert tx.leaderboard_rows(ids["benchmark"], final.id) == []
        assert len(tx.leaderboard_rows(ids["benchmark"])) == 1
    assert by_phase == {main.id: [in_main.id], final.id: [in_final.id]}
    assert (in_final.phase, in_final.publication) == ("final", ResultPublication.HELD)


def test_publishing_or_withholding_a_result_is_stored_audited_and_moves_the_board(
    store: Store,
) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        held = tx.add_result(ids["owner"], _result(ids), NOW, main.id, ResultPublication.HELD)
    with store.transaction() as tx:
        revision = tx.results_revision(ids["benchmark"])
    with store.transaction() as tx:
        withheld = tx.set_result_publication(
            held.id, ResultPublication.WITHHELD, "ran on the wrong cohort"
        )
        assert tx.leaderboard_rows(ids["benchmark"], main.id) == []
    assert withheld.publication_reason == "ran on the wrong cohort"
    with store.transaction() as tx:
        published = tx.set_result_publication(held.id, ResultPublication.PUBLISHED, None)
        assert len(tx.leaderboard_rows(ids["benchmark"], main.id)) == 1
    assert (published.publication, published.publication_reason) == (
        ResultPublication.PUBLISHED,
        None,
    )
    with store.transaction() as tx:
        assert tx.results_revision(ids["benchmark"]) == revision + 2
        actions = [e.action for e in tx.list_audit_entries("result", entity_ids=[str(held.id)])]
    assert actions == ["result.add", "result.withhold", "result.publish"]


def test_closing_a_phase_archives_its_board_and_is_audited(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
        assert tx.archived_board(main.id) is None
    with store.transaction() as tx:
        closed = tx.close_phase(main.id, NOW + DAY, '{"entries":[]}', "f" * 64)
    assert (closed.closed_at, closed.board_hash) == (NOW + DAY, "f" * 64)
    with store.transaction() as tx:
        assert tx.archived_board(main.id) == '{"entries":[]}'
        assert tx.archived_board(9999) is None
        entries = tx.list_audit_entries("phase", entity_ids=[str(main.id)])
    assert [e.action for e in entries] == ["phase.add", "phase.close"]


def test_a_phases_new_dates_are_stored_and_audited(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        (main,) = tx.list_phases(ids["benchmark"])
    with store.transaction() as tx:
        ended = tx.set_phase_dates(main.id, NOW - DAY, NOW + DAY)
    assert (ended.opens_at, ended.closes_at) == (NOW - DAY, NOW + DAY)
    with store.transaction() as tx:
        endless = tx.set_phase_dates(main.id, NOW - DAY, None)
    with store.transaction() as tx:
        (stored,) = tx.list_phases(ids["benchmark"])
        entries = tx.list_audit_entries("phase", entity_ids=[str(main.id)])
    assert (endless.closes_at, stored.opens_at, stored.closes_at) == (None, NOW - DAY, None)
    assert [e.action for e in entries] == ["phase.add", "phase.edit", "phase.edit"]
