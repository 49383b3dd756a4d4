"""MedPerf users' habits through the CLI, against a real server and sandbox: revoking an
association and asking again, moving a dataset to another machine of the same data
owner, and invalidating a cube, a dataset and a benchmark."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medval.client.workspace import result_key
from medval.core.hashing import pack_trees, unpack_archive_file
from tests.e2e.conftest import E2E_SITES, Assets, Benchmark
from tests.e2e.people import CliResult, Person, assert_clean_failure

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@dataclass(frozen=True)
class Site:
    """hospital-a's site-h on the benchmark, with the reference model's result uploaded
    and the vendor model's result computed but not sent."""

    dataset_id: int
    model_id: int
    model_association: int
    sent_key: str
    unsent_key: str
    run: list[dict[str, Any]]  # what 'medval run --format json' printed


@pytest.fixture(scope="module")
def site(people: dict[str, Person], benchmark: Benchmark, assets: Assets) -> Site:
    hospital, committee, vendor = people["hospital-a"], people["committee"], people["vendor"]
    files = assets.sites[E2E_SITES[0]].data_path.parent
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "site-h",
        "--data-path", str(files / "data"), "--labels-path", str(files / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "site-h", "--yes")
    hospital.ok("dataset", "associate", "site-h", "--yes")
    model = vendor.json("model", "register", str(assets.models["logistic"]))
    vendor.ok("model", "associate", str(model["id"]), "--benchmark", str(benchmark.id), "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    run = hospital.json("run", "--yes")
    [dataset] = hospital.json("dataset", "list", "--mine")
    sent = result_key(benchmark.id, benchmark.reference_id, dataset["id"])
    hospital.ok("results", "upload", sent, "--yes")
    [association] = vendor.json("association", "list", "--kind", "model")
    return Site(
        dataset["id"],
        model["id"],
        association["id"],
        sent,
        result_key(benchmark.id, model["id"], dataset["id"]),
        run,
    )


def test_run_in_json_names_each_execution_and_what_it_gave(
    site: Site, people: dict[str, Person]
) -> None:
    """stdout is one JSON document (the review and progress went to stderr); the local
    results' JSON carries the key their table shows."""
    by_key = {row["key"]: row for row in site.run}
    assert set(by_key) == {site.sent_key, site.unsent_key}
    for row in by_key.values():
        assert row["outcome"] == "succeeded"
        assert row["dataset"] == "site-h"
        assert len(row["model_hash"]) == 64
        assert "auroc" in row["document"]["metrics"]
    assert by_key[site.unsent_key]["model_id"] == site.model_id
    local = people["hospital-a"].json("results", "list", "--local")
    assert {site.sent_key, site.unsent_key} <= {row["key"] for row in local}


@dataclass(frozen=True)
class Reassociated:
    revoked: CliResult
    refused_upload: CliResult
    run_while_revoked: CliResult
    asked_again: CliResult
    history: list[str]


@pytest.fixture(scope="module")
def reassociated(site: Site, people: dict[str, Person], benchmark: Benchmark) -> Reassociated:
    """The vendor revokes its model's association, the hospital cannot upload under it,
    then the vendor asks again and the committee approves again."""
    hospital, vendor, committee = people["hospital-a"], people["vendor"], people["committee"]
    association = str(site.model_association)
    revoked = vendor.medval("association", "revoke", association, "--yes")
    refused = hospital.medval("results", "upload", site.unsent_key, "--yes")
    run = hospital.medval("run", "--yes")
    again = vendor.medval(
        "model", "associate", str(site.model_id), "--benchmark", str(benchmark.id), "--yes"
    )
    committee.ok("association", "approve", association, "--yes")
    shown = committee.json("association", "show", association)
    return Reassociated(
        revoked, refused, run, again, [event["status"] for event in shown["history"]]
    )


def test_either_side_revokes_and_nothing_new_runs_or_uploads(
    reassociated: Reassociated, site: Site
) -> None:
    assert reassociated.revoked.code == 0, reassociated.revoked.stderr
    assert f"association {site.model_association} (model " in reassociated.revoked.stderr
    assert "is revoked" in reassociated.revoked.stderr
    assert_clean_failure(reassociated.refused_upload, 5, "is revoked on benchmark")
    assert reassociated.run_while_revoked.code == 0
    assert "nothing to run" in reassociated.run_while_revoked.stderr


def test_a_revoked_association_is_requested_again_with_its_history(
    reassociated: Reassociated, site: Site
) -> None:
    assert reassociated.asked_again.code == 0, reassociated.asked_again.stderr
    assert (
        f"association {site.model_association} requested again: pending"
        in reassociated.asked_again.stderr
    )
    assert reassociated.history == ["pending", "approved", "revoked", "pending", "approved"]


@dataclass(frozen=True)
class Moved:
    archive: Path
    laptop: Person
    exported: CliResult
    imported: CliResult
    uploaded_from_laptop: CliResult
    rerun_on_laptop: CliResult


@pytest.fixture(scope="module")
def moved(
    reassociated: Reassociated,
    site: Site,
    people: dict[str, Person],
    benchmark: Benchmark,
    tmp_path_factory: pytest.TempPathFactory,
) -> Moved:
    """hospital-a exports site-h and its two results; its laptop imports them, uploads
    the unsent one and runs a model on the imported data."""
    hospital = people["hospital-a"]
    archive = tmp_path_factory.mktemp("exports") / "site-h.tar.gz"
    exported = hospital.medval("dataset", "export", "site-h", str(archive))
    laptop = Person("hospital-a", tmp_path_factory.mktemp("laptop") / "home", hospital.server_url)
    laptop.ok("login", "--username", "hospital-a")
    imported = laptop.medval("dataset", "import", str(archive))
    # The imported data runs as the original did (its hash checked again), and uploads.
    rerun = laptop.medval("run", "--model", str(site.model_id), "--force", "--yes")
    upload = laptop.medval("results", "upload", site.unsent_key, "--yes")
    return Moved(archive, laptop, exported, imported, upload, rerun)


def test_a_dataset_and_its_results_move_to_another_machine(moved: Moved, site: Site) -> None:
    assert moved.exported.code == 0, moved.exported.stderr
    assert "with 2 local result(s) (1 not uploaded)" in moved.exported.stderr
    assert moved.imported.code == 0, moved.imported.stderr
    assert "imported site-h" in moved.imported.stderr and "checked" in moved.imported.stderr
    [dataset] = moved.laptop.json("dataset", "list", "--local")
    assert (dataset["name"], dataset["server_id"]) == ("site-h", site.dataset_id)
    assert moved.rerun_on_laptop.code == 0, moved.rerun_on_laptop.stderr
    assert f"{site.unsent_key} (local, not uploaded)" in moved.rerun_on_laptop.stderr
    assert moved.uploaded_from_laptop.code == 0, moved.uploaded_from_laptop.stderr
    assert f"result {site.unsent_key} uploaded as" in moved.uploaded_from_laptop.stderr
    local = {r["model_id"]: r for r in moved.laptop.json("results", "list", "--local")}
    assert len(local) == 2 and all(r["uploaded_at"] is not None for r in local.values())


def test_imports_that_do_not_fit_change_nothing(
    moved: Moved, people: dict[str, Person], tmp_path: Path
) -> None:
    laptop = moved.laptop
    before = sorted(p.relative_to(laptop.home) for p in (laptop.home / "datasets").rglob("*"))
    again = laptop.medval("dataset", "import", str(moved.archive))
    assert_clean_failure(again, 5, "pass --replace to overwrite it; nothing was imported")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(moved.archive.read_bytes()[:-4000])
    fresh = Person("hospital-a", tmp_path / "fresh", laptop.server_url)
    fresh.ok("login", "--username", "hospital-a")
    assert_clean_failure(
        fresh.medval("dataset", "import", str(broken)), 2, "is not a medval dataset export"
    )
    tampered = tmp_path / "tampered.tar.gz"
    unpacked = tmp_path / "unpacked"
    unpack_archive_file(moved.archive, unpacked)
    labels = next((unpacked / "dataset" / "labels").iterdir())
    labels.write_text(labels.read_text().replace("1", "0", 1))
    with tampered.open("wb") as handle:
        pack_trees([("", unpacked)], handle)
    assert_clean_failure(
        fresh.medval("dataset", "import", str(tampered)), 6, "nothing was imported"
    )
    assert not (fresh.home / "datasets").exists() and not (fresh.home / "results").exists()
    someone_else = people["hospital-b"].medval("dataset", "import", str(moved.archive))
    assert_clean_failure(someone_else, 3, "log in as its owner to import it")
    after = sorted(p.relative_to(laptop.home) for p in (laptop.home / "datasets").rglob("*"))
    assert after == before
    shutil.rmtree(unpacked)


def test_invalidated_cubes_datasets_and_benchmarks_run_nothing_new(
    moved: Moved,
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
    site: Site,
) -> None:
    vendor, hospital, committee = people["vendor"], people["hospital-a"], people["committee"]
    model = vendor.json("model", "register", str(assets.models["boosting"]))
    asked = vendor.medval("cube", "invalidate", str(model["id"]))
    assert_clean_failure(asked, 10, "pass --yes")
    assert "This cannot be undone" in asked.stderr
    shown = vendor.json("cube", "invalidate", str(model["id"]), "--yes")
    assert shown["invalidated_by"] == "vendor" and shown["invalidated_at"]
    listed = {c["id"]: c for c in hospital.json("model", "list")}
    assert listed[model["id"]]["invalidated_by"] == "vendor"
    table = hospital.ok("cube", "list")
    assert "invalidated_at" in table
    associate = vendor.medval(
        "model", "associate", str(model["id"]), "--benchmark", str(benchmark.id), "--yes"
    )
    assert_clean_failure(associate, 5, "was invalidated by vendor")
    assert "compatibility test" not in associate.stderr
    run = hospital.medval("run", "--model", str(model["id"]), "--yes")
    assert_clean_failure(run, 5, f"model {model['name']} ({model['id']}) was invalidated")

    hospital.ok("dataset", "invalidate", str(site.dataset_id), "--yes")
    [mine] = hospital.json("dataset", "list", "--mine")
    assert mine["invalidated_by"] == "hospital-a"

    committee.ok("benchmark", "invalidate", str(benchmark.id), "--yes")
    assert committee.json("benchmark", "show", str(benchmark.id))["invalidated_by"] == "committee"
    files = assets.sites[E2E_SITES[1]].data_path.parent
    prepare = people["hospital-b"].medval(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "late",
        "--data-path", str(files / "data"), "--labels-path", str(files / "labels"),
    )  # fmt: skip
    assert_clean_failure(prepare, 5, f"benchmark breast-e2e ({benchmark.id}) was invalidated")
    assert not (people["hospital-b"].home / "datasets" / "late").exists()
    # The results stay in the record, released as before.
    rows = committee.json("results", "list", "--benchmark", str(benchmark.id))
    assert {r["model_id"] for r in rows} == {benchmark.reference_id, site.model_id}
