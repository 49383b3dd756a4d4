"""The five steps end to end, through the CLI, against a real server and sandbox.

Two hospitals, the reference model and one vendor model. Hospital B talks to the server
through a recording proxy and has a marker patient planted in its raw data, so the
privacy test can check every byte that left it and every row the server stored.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.client.workspace import result_key
from medval.demo.embedded_server import server_env
from tests.e2e.conftest import E2E_SITES, Assets, Benchmark, Server
from tests.e2e.people import Person
from tests.e2e.recording_proxy import Recorded, recording_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

MARKER_ID = "MARKER-PATIENT-5f1c2e9a"
# A progesterone receptor level inside the preparation cube's plausible range (so the
# patient is kept) that no real patient has (the cohorts' maximum is about 5,000).
MARKER_VALUE = "98765"
MARKER_NUMBER = re.compile(r"(?<![\w.])98765(?![\w.])")


def plant_marker(site: Path) -> None:
    """Give one patient of a raw export a unique id and a unique lab value.

    The patient chosen had an event within follow-up, so the preparation cube keeps it
    (cases censored before five years are excluded) and the marker reaches the models.
    """
    outcomes_path = site / "labels" / "outcomes.csv"
    with outcomes_path.open() as handle:
        outcomes = list(csv.DictReader(handle))
    chosen = next(row["case_id"] for row in outcomes if row["event"] == "1")
    for path, column in (
        (site / "data" / "patients.csv", "progesterone_receptor"),
        (outcomes_path, None),
    ):
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["case_id"] == chosen:
                row["case_id"] = MARKER_ID
                if column:
                    row[column] = MARKER_VALUE
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


@dataclass(frozen=True)
class Federation:
    benchmark: Benchmark
    vendor_model_id: int
    datasets: dict[str, int]
    wire: list[Recorded]
    marked_site: Path
    first_run_models: set[int]


@pytest.fixture(scope="module")
def federation(
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
    server: Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Federation]:
    bid = str(benchmark.id)
    marked = tmp_path_factory.mktemp("marked") / "site"
    source = assets.sites[E2E_SITES[1]]
    for sub, files in (("data", source.data_path), ("labels", source.labels_path)):
        (marked / sub).mkdir(parents=True)
        for file in files.iterdir():
            (marked / sub / file.name).write_bytes(file.read_bytes())
    plant_marker(marked)

    with recording_proxy(server.url) as (proxy_url, wire):
        a = people["hospital-a"]
        b = Person("hospital-b", people["hospital-b"].home, proxy_url)
        b.ok("login", "--username", "hospital-b")  # its stored server is now the proxy
        site_a = assets.sites[E2E_SITES[0]]
        for person, name, files in ((a, "site-a", site_a.data_path.parent), (b, "site-b", marked)):
            person.ok(
                "dataset",
                "prepare",
                "--benchmark",
                bid,
                "--name",
                name,
                "--data-path",
                str(files / "data"),
                "--labels-path",
                str(files / "labels"),
            )
            person.ok("dataset", "register", name, "--yes")
            person.ok("dataset", "associate", name, "--yes")
        committee = people["committee"]
        for association in committee.json("association", "list", "--status", "pending"):
            committee.ok("association", "approve", str(association["id"]), "--yes")

        vendor = people["vendor"]
        model = vendor.json("model", "register", str(assets.models["boosting"]))
        vendor.ok("model", "associate", str(model["id"]), "--benchmark", bid, "--yes")
        pending = committee.json("association", "list", "--status", "pending", "--kind", "model")
        assert [p["entity_id"] for p in pending] == [model["id"]]
        committee.ok("association", "approve", str(pending[0]["id"]), "--yes")

        # Hospital A runs the reference model alone first, then the rest, and uploads
        # everything in one review; hospital B runs all and uploads result by result.
        a.ok("run", "--model", str(benchmark.reference_id), "--yes")
        first_run = {r["model_id"] for r in a.json("results", "list", "--local")}
        a.ok("run", "--yes")
        a.ok("results", "upload", "--all", "--yes")
        b.ok("run", "--yes")
        for result in b.json("results", "list", "--local"):
            key = result_key(result["benchmark_id"], result["model_id"], result["dataset_id"])
            b.ok("results", "upload", key, "--yes")
        datasets = {
            result["dataset"]: result["dataset_id"]
            for person in (a, b)
            for result in person.json("results", "list", "--local")
            if result["uploaded_at"] is not None
        }
        yield Federation(benchmark, model["id"], datasets, list(wire), marked, first_run)


def test_leaderboard_pools_both_models_across_both_sites(
    federation: Federation, people: dict[str, Person]
) -> None:
    board = people["committee"].json("benchmark", "leaderboard", str(federation.benchmark.id))
    entries = {entry["model_id"]: entry for entry in board["entries"]}
    assert set(entries) == {federation.benchmark.reference_id, federation.vendor_model_id}
    for entry in entries.values():
        assert entry["n_sites"] == 2
        sites = [site["metrics"]["auroc"]["value"] for site in entry["sites"]]
        pooled = entry["pooled"]["auroc"]
        assert min(sites) - 1e-9 <= pooled["value"] <= max(sites) + 1e-9
        assert pooled["lower"] < pooled["value"] < pooled["upper"]
        assert 0.55 < pooled["value"] < 0.9  # real models on real data: clearly better than chance
    ranked = [entry["pooled"]["auroc"]["value"] for entry in board["entries"]]
    assert ranked == sorted(ranked, reverse=True)


def test_run_model_runs_only_the_chosen_models(federation: Federation) -> None:
    assert federation.first_run_models == {federation.benchmark.reference_id}


def test_nothing_is_left_to_run_and_a_rerun_resumes(
    federation: Federation, people: dict[str, Person]
) -> None:
    result = people["hospital-a"].medval("run", "--yes")
    assert result.code == 0
    assert "nothing to run" in result.stderr


def test_release_policy_per_role(federation: Federation, people: dict[str, Person]) -> None:
    bid = str(federation.benchmark.id)
    committee_rows = people["committee"].json("results", "list", "--benchmark", bid)
    assert len(committee_rows) == 4  # 2 models x 2 sites: the owner sees all
    hospital_rows = people["hospital-a"].json("results", "list")
    assert {row["dataset"] for row in hospital_rows} == {"site-a"}
    vendor_rows = people["vendor"].json("model", "results", str(federation.vendor_model_id))
    assert {row["model_id"] for row in vendor_rows} == {federation.vendor_model_id}
    assert len(vendor_rows) == 2
    assert people["vendor"].json("results", "list") == vendor_rows
    assert people["outsider"].json("results", "list") == []
    # The participants policy: a participant sees the aggregate, not other sites' rows;
    # someone with no part in the benchmark sees nothing.
    board = people["vendor"].json("benchmark", "leaderboard", bid)
    assert board["entries"]
    for entry in board["entries"]:
        own = entry["model_id"] == federation.vendor_model_id
        assert bool(entry["sites"]) == own
    refused = people["outsider"].medval("benchmark", "leaderboard", bid)
    assert refused.code == 3 and "error:" in refused.stderr


def _rows_of(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        return "\n".join(connection.iterdump())


def test_no_raw_data_label_or_prediction_crosses_the_wire(
    federation: Federation, server: Server, people: dict[str, Person]
) -> None:
    home = people["hospital-b"].home
    predictions = sorted(home.glob("results/*/predictions/*.csv"))
    assert predictions, "the marked hospital ran no model"
    per_case = []
    for path in predictions:
        with path.open() as handle:
            per_case += [row for row in csv.DictReader(handle)]
    assert any(row["case_id"] == MARKER_ID for row in per_case)  # the marker reached the model
    probabilities = [row["probability"] for row in per_case if len(row["probability"]) > 8]
    labels_file = next(home.glob("datasets/site-b/labels/*.csv"))
    assert MARKER_ID in labels_file.read_text()
    cases_file = next(home.glob("datasets/site-b/data/*.csv"))
    assert MARKER_NUMBER.search(cases_file.read_text())  # the marked value was kept, too

    sent = "\n".join(request.text() for request in federation.wire)
    # What did cross: registration and results, so the recording is not empty by accident.
    assert "/api/v1/datasets" in sent and "/api/v1/results" in sent and "auroc" in sent
    stored = _rows_of(server.data_dir / "medval.db")
    blobs = b"".join(p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file())
    for where, text in (("the wire", sent), ("the database", stored)):
        assert MARKER_ID not in text, f"a case id reached {where}"
        assert not MARKER_NUMBER.search(text), f"a raw lab value reached {where}"
        leaked = [p for p in probabilities if p in text]
        assert not leaked, f"per-case predictions reached {where}: {leaked[:3]}"
        assert "site-b/labels" not in text and "outcomes.csv" not in text
    assert MARKER_ID.encode() not in blobs


def test_each_step_is_in_the_audit_trails(
    federation: Federation, people: dict[str, Person], server: Server
) -> None:
    """Hospital B's own log has each execution's approval, result and upload, in that
    order; the server's log verifies, and holds each upload as done by its hospital."""
    b = people["hospital-b"]
    local = b.json("audit")
    uploaded = [r for r in b.json("results", "list", "--local") if r["uploaded_at"] is not None]
    assert uploaded
    for result in uploaded:
        key = result_key(result["benchmark_id"], result["model_id"], result["dataset_id"])
        steps = [e["action"] for e in local if e["entity_id"] == key]
        assert steps[:3] == ["execution.approve", "execution.succeeded", "execution.upload"]
    assert {e["actor"] for e in local} == {"hospital-b"}
    assert "association.request" in {e["action"] for e in local}
    assert b.ok("audit", "verify").startswith("local audit log verified: ")

    env = server_env(server.data_dir, 0)
    verify = subprocess.run(
        [sys.executable, "-m", "medval", "server", "audit", "verify"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit log verified: ")
    shown = subprocess.run(
        [sys.executable, "-m", "medval", "server", "audit", "show", "--entity", "result",
         "--format", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    by_result = {e["entity_id"]: e["actor"] for e in json.loads(shown.stdout)}
    for result in uploaded:
        assert by_result[str(result["server_id"])] == "hospital-b"
