"""``medval benchmark quota``, ``medval benchmark priorities`` and ``medval benchmark entry
choose`` (issue 19) against a live server: exact exit codes and one-line messages, and
bad input that stores nothing.

The benchmark is made in the server's store directly (its cubes need no archive here):
trainer is its committee, host a model owner, hospital a data owner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from medval.client.http import MedvalClient
from medval.client.runs import plan
from medval.client.settings import ClientSettings, load_login
from medval.core.documents import DatasetStatistics
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.server.store.sql import SqlStore
from tests.cli.test_training_commands import Medval
from tests.conftest import LiveServer

H = "a" * 64


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """An approved benchmark of trainer's with host's models: one approved, one waiting."""
    store = SqlStore.from_url(live_server.settings.database_url)
    now = datetime.now(UTC)
    try:
        with store.transaction() as tx:
            committee, vendor = tx.user_by_name("trainer"), tx.user_by_name("host")
            assert committee is not None and vendor is not None

            def cube(owner: int, name: str, kind: CubeKind) -> int:
                return tx.add_cube(owner, CubeCreate(name=name, kind=kind, archive_hash=H), now).id

            benchmark = tx.add_benchmark(
                committee.id,
                BenchmarkCreate(
                    name="chest",
                    data_preparator_id=cube(committee.id, "prep", CubeKind.DATA_PREPARATOR),
                    reference_model_id=cube(committee.id, "reference", CubeKind.MODEL),
                    evaluator_id=cube(committee.id, "eval", CubeKind.EVALUATOR),
                    demo_data_hash=H,
                ),
                now,
            )
            tx.set_benchmark_approval(benchmark.id, ApprovalStatus.APPROVED)
            approved = cube(vendor.id, "variant-a", CubeKind.MODEL)
            waiting = cube(vendor.id, "variant-b", CubeKind.MODEL)
            reference = benchmark.reference_model_id
            for model_id, by in ((reference, committee), (approved, vendor), (waiting, vendor)):
                tx.add_association(benchmark.id, AssociationKind.MODEL, model_id, by.id, now)
            for model_id in (reference, approved):  # as registration and the committee do
                (association,) = tx.list_associations(benchmark.id, entity_id=model_id)
                tx.decide_association(association.id, ApprovalStatus.APPROVED, committee.id, now)
            ids = {"benchmark": benchmark.id, "approved": approved, "waiting": waiting}
            ids["reference"] = benchmark.reference_model_id
            return ids
    finally:
        store.close()


def _phase(live_server: LiveServer, benchmark_id: int) -> Any:
    store = SqlStore.from_url(live_server.settings.database_url)
    try:
        with store.transaction() as tx:
            (phase,) = tx.list_phases(benchmark_id)
            return phase
    finally:
        store.close()


@pytest.fixture
def seeded(live_server: LiveServer, people: dict[str, Medval]) -> dict[str, Any]:
    return _seed(live_server)


def test_the_committee_sets_a_phases_quotas(
    live_server: LiveServer, people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    committee, b = people["trainer"], str(seeded["benchmark"])
    done = committee("benchmark", "quota", b, "main", "--models", "1", "--executions-per-day", "3")
    assert done.code == 0, done.stderr
    changed = committee(
        "benchmark", "quota", b, "main", "--executions-per-day", "none", "--format", "json"
    )
    assert changed.code == 0, changed.stderr
    shown = json.loads(changed.stdout)
    assert (shown["max_models_per_owner"], shown["max_executions_per_site_per_day"]) == (1, None)
    phase = _phase(live_server, seeded["benchmark"])
    assert (phase.max_models_per_owner, phase.max_executions_per_site_per_day) == (1, None)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("--models", "-1"),
            2,
            "max_models_per_owner: Input should be greater than or equal to 0",
        ),
        (
            ("--executions-per-day", "-5"),
            2,
            "max_executions_per_site_per_day: Input should be greater than or equal to 0",
        ),
        (
            ("--models", "lots"),
            2,
            "--models is a count (0 or more) or 'none' (no limit), not 'lots'",
        ),
        ((), 2, "give --models, --executions-per-day or both"),
    ],
)
def test_a_bad_quota_is_one_line_and_stores_nothing(
    live_server: LiveServer,
    people: dict[str, Medval],
    seeded: dict[str, Any],
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    refused = people["trainer"]("benchmark", "quota", str(seeded["benchmark"]), "main", *args)
    assert (refused.code, refused.stdout) == (code, "")
    assert refused.stderr == f"error: {message}"
    phase = _phase(live_server, seeded["benchmark"])
    assert (phase.max_models_per_owner, phase.max_executions_per_site_per_day) == (None, None)


def test_only_the_committee_sets_quotas_and_priorities(
    people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    b = str(seeded["benchmark"])
    refused = people["host"]("benchmark", "quota", b, "main", "--models", "9")
    assert (refused.code, refused.stderr) == (
        3,
        "error: only the owner of benchmark chest (or an admin) may do this",
    )
    refused = people["host"]("benchmark", "priorities", b, str(seeded["approved"]))
    assert refused.code == 3
    missing = people["trainer"]("benchmark", "quota", b, "final", "--models", "9")
    assert (missing.code, missing.stderr) == (
        4,
        "error: benchmark chest has no phase 'final' (its phases: main)",
    )


def test_the_committee_orders_the_models_of_a_phase(
    live_server: LiveServer, people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    committee, b = people["trainer"], str(seeded["benchmark"])
    order = [seeded["approved"], seeded["reference"]]
    done = committee("benchmark", "priorities", b, *map(str, order), "--format", "json")
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["model_priorities"] == order
    unknown = committee("benchmark", "priorities", b, "99999")
    assert (unknown.code, unknown.stderr) == (4, "error: model 99999 does not exist")
    waiting = committee("benchmark", "priorities", b, str(seeded["waiting"]))
    assert (waiting.code, waiting.stderr) == (
        2,
        f"error: model variant-b ({seeded['waiting']}) is not in phase main of benchmark "
        "chest: only its approved models are ordered",
    )
    twice = committee("benchmark", "priorities", b, "7", "7")
    assert twice.code == 2 and "named more than once" in twice.stderr
    assert "\n" not in twice.stderr
    assert _phase(live_server, seeded["benchmark"]).model_priorities == order


def test_a_model_owner_chooses_its_entry_that_counts(
    people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    vendor, b = people["host"], str(seeded["benchmark"])
    no_quota = vendor("benchmark", "entry", "choose", b, str(seeded["approved"]))
    assert (no_quota.code, no_quota.stderr) == (
        5,
        "error: phase main of benchmark chest has no quota of models per owner: each of your "
        "models counts on its board",
    )
    assert people["trainer"]("benchmark", "quota", b, "main", "--models", "2").code == 0
    chosen = vendor("benchmark", "entry", "choose", b, str(seeded["approved"]), "-f", "json")
    assert chosen.code == 0, chosen.stderr
    assert (json.loads(chosen.stdout)["model"], json.loads(chosen.stdout)["phase"]) == (
        "variant-a",
        "main",
    )
    waiting = vendor("benchmark", "entry", "choose", b, str(seeded["waiting"]))
    assert (waiting.code, waiting.stderr) == (
        2,
        f"error: model variant-b ({seeded['waiting']}) is not an entry of yours in phase main "
        "of benchmark chest: it needs its association approved first",
    )
    others = people["hospital"]("benchmark", "entry", "choose", b, str(seeded["approved"]))
    assert (others.code, others.stderr) == (
        3,
        "error: only the owner of model variant-a may choose it as an entry",
    )


def test_an_entry_that_counts_stands_once_one_of_the_owners_entries_has_a_result(
    live_server: LiveServer, people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    vendor, b = people["host"], str(seeded["benchmark"])
    assert people["trainer"]("benchmark", "quota", b, "main", "--models", "2").code == 0
    _hospital_dataset(live_server, seeded["benchmark"])
    _result_of(live_server, seeded["benchmark"], seeded["approved"])
    again = vendor("benchmark", "entry", "choose", b, str(seeded["approved"]))
    assert (again.code, again.stderr) == (
        5,
        "error: the entry that counts in phase main of benchmark chest is chosen before any of "
        "your entries has a result: model variant-a already has 1; model variant-a counts",
    )


def _result_of(live_server: LiveServer, benchmark_id: int, model_id: int) -> None:
    """hospital's result of the model on its dataset, in the phase open now."""
    from medval.core.documents import MetricValue, Provenance, ResultDocument
    from medval.core.result_schemas import ResultCreate

    store = SqlStore.from_url(live_server.settings.database_url)
    try:
        with store.transaction() as tx:
            hospital = tx.user_by_name("hospital")
            assert hospital is not None
            (dataset,) = tx.list_datasets(owner_id=hospital.id)
            result = ResultCreate(
                benchmark_id=benchmark_id,
                dataset_id=dataset.id,
                model_id=model_id,
                document=ResultDocument(n_cases=10, metrics={"auroc": MetricValue(value=0.8)}),
                provenance=Provenance(
                    dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
                ),
                key_id="e" * 64,
                signature="A" * 86 + "==",
            )
            tx.add_result(hospital.id, result, datetime.now(UTC))
    finally:
        store.close()


def _hospital_dataset(live_server: LiveServer, benchmark_id: int) -> None:
    """hospital's dataset, approved on the benchmark."""
    store = SqlStore.from_url(live_server.settings.database_url)
    now = datetime.now(UTC)
    try:
        with store.transaction() as tx:
            hospital, benchmark = tx.user_by_name("hospital"), tx.benchmark(benchmark_id)
            assert hospital is not None and benchmark is not None
            dataset = tx.add_dataset(
                hospital.id,
                DatasetCreate(
                    name="ward-3",
                    data_preparator_id=benchmark.data_preparator_id,
                    data_hash="b" * 64,
                    statistics=DatasetStatistics(n_cases=100, values={}),
                ),
                now,
            )
            association = tx.add_association(
                benchmark_id, AssociationKind.DATASET, dataset.id, hospital.id, now
            )
            tx.decide_association(association.id, ApprovalStatus.APPROVED, benchmark.owner_id, now)
    finally:
        store.close()


def test_a_sites_run_follows_the_priorities_the_committee_set(
    live_server: LiveServer, tmp_path: Path, people: dict[str, Medval], seeded: dict[str, Any]
) -> None:
    """The server's pending work, as a site's client plans its run: the committee's order."""
    _hospital_dataset(live_server, seeded["benchmark"])
    b = str(seeded["benchmark"])
    login = load_login(ClientSettings(home=tmp_path / "hospital"))
    assert login is not None

    def run_order() -> list[int]:
        with MedvalClient(live_server.url, login.token) as client:
            executor = SimpleNamespace(client=client, workspace=_NoWorkspace())
            return [item.pending.model_id for item in plan(executor)]  # type: ignore[arg-type]

    # Today's order: by model id.
    assert run_order() == sorted([seeded["reference"], seeded["approved"]])
    done = people["trainer"]("benchmark", "priorities", b, str(seeded["approved"]))
    assert done.code == 0, done.stderr
    assert run_order() == [seeded["approved"], seeded["reference"]]


class _NoWorkspace:
    """A workspace with nothing prepared or run yet."""

    def dataset_by_server_id(self, dataset_id: int) -> None:
        return None

    def result(self, key: str) -> None:
        return None


def test_the_board_names_how_many_entries_the_owner_made() -> None:
    from rich.console import Console

    from medval.cli.leaderboard_view import print_leaderboard
    from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic
    from medval.core.states import ReleasePolicy

    def entry(model: str, owner: str, made: int) -> LeaderboardEntry:
        return LeaderboardEntry(
            model_id=len(model), model=model, model_owner=owner, n_sites=1, n_cases=10,
            pooled={}, n_entries=made,
        )  # fmt: skip

    board = LeaderboardPublic(
        benchmark_id=1, benchmark="chest", release_policy=ReleasePolicy.PUBLIC, metrics=[],
        primary_metric=None, higher_is_better=True,
        entries=[entry("variant-b", "host", 3), entry("net", "lab", 1)],
    )  # fmt: skip
    screen = SimpleNamespace(out=Console(record=True, width=200))
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    rows = screen.out.export_text().splitlines()
    assert "host (1 of 3 entries)" in next(row for row in rows if "variant-b" in row)
    assert "entries" not in next(row for row in rows if "│ net" in row)
