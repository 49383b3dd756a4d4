"""Bad input through the CLI: one clear line, a non-zero exit, nothing lost, no traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from medval.demo.embedded_server import free_port
from tests.e2e.conftest import E2E_SITES, Assets, Benchmark
from tests.e2e.people import Person, assert_clean_failure

pytestmark = [pytest.mark.e2e]


def test_a_server_that_is_down(people: dict[str, Person], tmp_path: Path) -> None:
    nobody = Person("committee", tmp_path / "home", f"http://127.0.0.1:{free_port()}")
    assert_clean_failure(nobody.medval("login", "--username", "committee"), 7, "cannot reach")
    assert_clean_failure(nobody.medval("benchmark", "list"), 7, "cannot reach")


def test_not_logged_in_and_wrong_password(people: dict[str, Person], tmp_path: Path) -> None:
    stranger = Person("committee", tmp_path / "home", people["committee"].server_url)
    assert_clean_failure(stranger.medval("whoami"), 3, "not logged in")
    wrong = stranger.medval("login", "--username", "committee", "--password-stdin", stdin="nope\n")
    assert_clean_failure(wrong, 3, "")
    assert not (stranger.home / "credentials.json").exists()


def test_a_damaged_credentials_file(people: dict[str, Person], tmp_path: Path) -> None:
    person = Person("x", tmp_path / "home", people["admin"].server_url)
    person.home.mkdir()
    (person.home / "credentials.json").write_text("{not json")
    assert_clean_failure(person.medval("whoami"), 2, "is damaged")


def test_unknown_ids(people: dict[str, Person]) -> None:
    committee = people["committee"]
    for args in (
        ("benchmark", "show", "9999"),
        ("cube", "show", "9999"),
        ("dataset", "show", "9999"),
        ("results", "show", "9999"),
        ("association", "approve", "9999", "--yes"),
    ):
        assert_clean_failure(committee.medval(*args), 4, "")


def test_missing_paths_and_folders_that_are_not_cubes(
    people: dict[str, Person], benchmark: Benchmark, tmp_path: Path
) -> None:
    committee, hospital = people["committee"], people["hospital-a"]
    assert_clean_failure(
        committee.medval("cube", "register", str(tmp_path / "nope")), 2, "does not exist"
    )
    assert_clean_failure(committee.medval("cube", "register", str(tmp_path)), 2, "is not a cube")
    prepare = hospital.medval(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "x",
        "--data-path", str(tmp_path / "missing"), "--labels-path", str(tmp_path),
    )  # fmt: skip
    assert_clean_failure(prepare, 2, "is not a folder")
    assert_clean_failure(
        hospital.medval("dataset", "register", "never-prepared"), 4, "no prepared dataset"
    )


def test_invalid_values(people: dict[str, Person]) -> None:
    admin = people["admin"]
    assert_clean_failure(admin.medval("users", "create", "bad name!"), 2, "username")
    usage = admin.medval("association", "list", "--status", "maybe")
    assert usage.code == 2 and "Traceback" not in usage.stderr and "maybe" in usage.stderr
    hospital = people["hospital-a"]
    assert_clean_failure(
        hospital.medval("run", "--model", "3,x", "--yes"),
        2,
        "--model takes model IDs separated by commas, not '3,x'",
    )
    assert_clean_failure(
        hospital.medval("results", "upload"), 2, "name one result KEY, or pass --all (not both)"
    )
    assert_clean_failure(
        hospital.medval("results", "upload", "b1-m1-d1", "--all"),
        2,
        "name one result KEY, or pass --all (not both)",
    )


def test_every_decision_asks_and_needs_yes_without_a_terminal(
    people: dict[str, Person], benchmark: Benchmark
) -> None:
    """Approve, reject, revoke and disable ask on a terminal; in a script (no terminal,
    as here) they need --yes, and without it nothing is decided."""
    admin = people["admin"]
    for command, question in (
        (("benchmark", "reject", str(benchmark.id)), f"Reject benchmark {benchmark.id} ("),
        (("users", "disable", "vendor"), "Disable account vendor and log it out everywhere?"),
        (("users", "revoke-tokens", "vendor"), "Revoke every token of account vendor?"),
    ):
        refused = admin.medval(*command)
        assert_clean_failure(refused, 10, question)
        assert "no terminal to ask on; pass --yes to approve" in refused.stderr
    shown = admin.json("benchmark", "show", str(benchmark.id))
    assert shown["approval"] == "approved"  # not rejected
    people["vendor"].ok("whoami")  # neither disabled nor logged out


def test_wrong_states(people: dict[str, Person], benchmark: Benchmark) -> None:
    again = people["admin"].medval("benchmark", "approve", "--yes", str(benchmark.id))
    assert_clean_failure(again, 5, "already approved")


def test_wrong_owner_and_initiator_cannot_approve(
    people: dict[str, Person], benchmark: Benchmark, assets: Assets
) -> None:
    vendor = people["vendor"]
    refused = vendor.medval("benchmark", "approve", "--yes", str(benchmark.id))
    assert_clean_failure(refused, 3, "")
    model = vendor.json("model", "register", str(assets.models["logistic"]), "--name", "own-try")
    vendor.ok("model", "associate", str(model["id"]), "--benchmark", str(benchmark.id), "--yes")
    mine = vendor.json("association", "list", "--kind", "model", "--status", "pending")
    own = next(a for a in mine if a["entity_id"] == model["id"])
    assert_clean_failure(vendor.medval("association", "approve", str(own["id"]), "--yes"), 3, "")
    # Nothing was lost: the request is still pending for the committee to decide.
    still = people["committee"].json("association", "list", "--status", "pending")
    assert own["id"] in [a["id"] for a in still]


def test_no_terminal_and_no_yes_sends_nothing(
    people: dict[str, Person], benchmark: Benchmark, assets: Assets
) -> None:
    hospital = people["hospital-b"]
    site = assets.sites[E2E_SITES[0]]
    hospital.ok(
        "dataset",
        "prepare",
        "--benchmark",
        str(benchmark.id),
        "--name",
        "unsent",
        "--data-path",
        str(site.data_path),
        "--labels-path",
        str(site.labels_path),
    )
    assert_clean_failure(hospital.medval("dataset", "register", "unsent"), 10, "pass --yes")
    assert hospital.json("dataset", "list", "--mine") == []


def test_wrong_hashes_are_refused_before_anything_is_sent(
    people: dict[str, Person], benchmark: Benchmark, assets: Assets
) -> None:
    hospital = people["hospital-a"]
    site = assets.sites[E2E_SITES[1]]
    hospital.ok(
        "dataset",
        "prepare",
        "--benchmark",
        str(benchmark.id),
        "--name",
        "tampered",
        "--data-path",
        str(site.data_path),
        "--labels-path",
        str(site.labels_path),
    )
    labels = next((hospital.home / "datasets" / "tampered" / "labels").glob("*.csv"))
    text = labels.read_text()
    flipped = re.sub(r"^([^,\n]+),1\b", r"\1,0", text, count=1, flags=re.MULTILINE)
    assert flipped != text  # one case's outcome flipped
    labels.write_text(flipped)
    assert_clean_failure(
        hospital.medval("dataset", "register", "tampered", "--yes"),
        6,
        "has changed since it was prepared",
    )
    assert hospital.json("dataset", "list", "--mine") == []

    archives = list((hospital.home / "cubes").glob("*.tar.gz"))
    assert archives
    archives[0].write_bytes(archives[0].read_bytes() + b"tampered")
    again = hospital.medval(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "again",
        "--data-path", str(site.data_path), "--labels-path", str(site.labels_path),
    )  # fmt: skip
    assert_clean_failure(again, 6, "does not match the registered")


def test_a_result_whose_provenance_was_edited_is_refused_by_the_server(
    people: dict[str, Person], benchmark: Benchmark, assets: Assets
) -> None:
    hospital = people["hospital-b"]
    site = assets.sites[E2E_SITES[0]]
    bid = str(benchmark.id)
    hospital.ok(
        "dataset",
        "prepare",
        "--benchmark",
        bid,
        "--name",
        "honest",
        "--data-path",
        str(site.data_path),
        "--labels-path",
        str(site.labels_path),
    )
    hospital.ok("dataset", "register", "honest", "--yes")
    hospital.ok("dataset", "associate", "honest", "--yes")
    committee = people["committee"]
    for association in committee.json(
        "association", "list", "--status", "pending", "--kind", "dataset"
    ):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    hospital.ok("run", "--benchmark", bid, "--yes")
    path = next((hospital.home / "results").glob("*/result.json"))
    record = json.loads(path.read_text())
    record["provenance"]["model_hash"] = "0" * 64
    path.write_text(json.dumps(record))
    key = path.parent.name
    assert_clean_failure(hospital.medval("results", "upload", key, "--yes"), 6, "")
    # Nothing lost: the local result is still there and still not uploaded.
    assert json.loads(path.read_text())["uploaded_at"] is None


def test_a_draft_moves_into_operation_and_never_back(
    people: dict[str, Person], assets: Assets
) -> None:
    vendor = people["vendor"]
    draft = vendor.json("model", "register", str(assets.models["boosting"]), "--name", "draft",
                        "--development")  # fmt: skip
    assert draft["stage"] == "development"
    assert (
        people["outsider"].medval("cube", "show", str(draft["id"])).code == 4
    )  # drafts are private
    moved = vendor.json("cube", "set-stage", str(draft["id"]), "operation")
    assert moved["stage"] == "operation"
    back = vendor.medval("cube", "set-stage", str(draft["id"]), "development")
    assert_clean_failure(back, 5, "cannot move to development")
    not_mine = people["outsider"].medval("cube", "set-stage", str(draft["id"]), "operation")
    assert not_mine.code in (3, 5) and "Traceback" not in not_mine.stderr


def test_image_archives_and_runner_kinds_that_do_not_fit(
    people: dict[str, Person], assets: Assets, tmp_path: Path
) -> None:
    committee = people["committee"]
    cube = tmp_path / "cube"
    cube.mkdir()
    (cube / "medval-cube.yaml").write_text(
        "name: plain\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    not_an_archive = tmp_path / "image.tar"
    not_an_archive.write_text("not a tar")
    plain = committee.medval("cube", "register", str(cube), "--image-archive", str(not_an_archive))
    assert_clean_failure(plain, 2, "names no image in its spec")
    (cube / "medval-cube.yaml").write_text(
        "name: imaged\nkind: model\nimage: vendor/model:1\n"
        "tasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    imaged = committee.medval("cube", "register", str(cube), "--image-archive", str(not_an_archive))
    assert_clean_failure(imaged, 2, "is not an image archive")
    kinds = committee.medval(
        "benchmark", "register", "--name", "odd-kinds", "--data-preparator", "1",
        "--reference-model", "2", "--evaluator", "3", "--demo-data", str(assets.demo_data),
        "--runner-kinds", "local,kubernetes",
    )  # fmt: skip
    assert_clean_failure(kinds, 2, "runners")
