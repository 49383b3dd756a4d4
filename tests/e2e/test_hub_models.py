"""Models from a hub, pinned (issue 15), through the CLI against a real server: the demo's
logistic model cube published in a local hub mirror (huggingface_hub's cache layout:
tests/hub_mirrors.py), registered with ``model register --hub REPO@REVISION``, shown with
its commit and every file's hash, and run at a site from the site's own mirror; each bad
input one line with its exit code, and a tampered, missing or moved file in the site's
mirror stops the run with nothing lost."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import E2E_SITES, Assets, Benchmark
from tests.e2e.people import Person, assert_clean_failure
from tests.hub_mirrors import blob_of, cube_repo, write_repo

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

REPO = "medval-demo/rfs5-logistic"
STORAGE = "models--medval-demo--rfs5-logistic"


@dataclass(frozen=True)
class HubModel:
    id: int
    commit: str
    files: dict[str, bytes]
    mirror: Path  # the vendor's
    registered: dict[str, object]


def with_mirror(person: Person, mirror: Path) -> Person:
    """The same person, their commands reading this hub mirror (MEDVAL_HUB_MIRROR)."""
    return Person(
        person.username,
        person.home,
        person.server_url,
        person.runner,
        (("MEDVAL_HUB_MIRROR", str(mirror)),),
    )


@pytest.fixture(scope="module")
def hub_model(
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HubModel]:
    """Published as main and v1.0; registered at main, compatibility-tested by the vendor
    (from the vendor's mirror) and accepted into the benchmark."""
    mirror = tmp_path_factory.mktemp("vendor") / "hub-mirror"
    commit, files = cube_repo(mirror, REPO, assets.models["logistic"], refs=("main", "v1.0"))
    vendor = with_mirror(people["vendor"], mirror)
    registered = vendor.json(
        "model", "register", "--hub", f"{REPO}@main", "--hub-mirror", str(mirror),
        "--name", "hub-logistic",
    )  # fmt: skip
    model_id = registered["id"]
    vendor.ok("model", "associate", str(model_id), "--benchmark", str(benchmark.id), "--yes")
    committee = people["committee"]
    pending = committee.json("association", "list", "--status", "pending", "--kind", "model")
    committee.ok("association", "approve", str(pending[0]["id"]), "--yes")
    yield HubModel(model_id, commit, files, mirror, registered)


def test_the_registration_pins_the_commit_and_every_file(
    hub_model: HubModel, people: dict[str, Person]
) -> None:
    hub = hub_model.registered["hub"]
    assert hub == {
        "repo": REPO,
        "revision": "main",
        "commit": hub_model.commit,
        "files": {p: hashlib.sha256(c).hexdigest() for p, c in hub_model.files.items()},
    }
    shown = people["vendor"].ok("model", "show", str(hub_model.id))
    assert f"hub: {REPO}@main, commit {hub_model.commit}" in shown
    for path, content in hub_model.files.items():
        assert f"{path}" in shown and hashlib.sha256(content).hexdigest() in shown
    as_cube = people["committee"].json("cube", "show", str(hub_model.id))
    assert as_cube["hub"] == hub and as_cube["archive_hash"] == hub_model.registered["archive_hash"]


def test_bad_hub_input_is_one_line_with_its_exit_code(
    hub_model: HubModel, people: dict[str, Person], tmp_path: Path
) -> None:
    vendor, mirror = people["vendor"], str(hub_model.mirror)

    def register(reference: str, folder: str = mirror) -> object:
        return vendor.medval("model", "register", "--hub", reference, "--hub-mirror", folder)

    assert_clean_failure(register("medval-demo/rfs5-logistic"), 2, "give REPO@REVISION")
    assert_clean_failure(register("a/b/c@main"), 2, "'a/b/c' is not a repository id")
    assert_clean_failure(
        register(f"{REPO}@v2.0"),
        4,
        f"revision v2.0 of hub repository {REPO} is not in the mirror {mirror}",
    )
    assert_clean_failure(
        register("medval-demo/elsewhere@main"),
        4,
        f"hub repository medval-demo/elsewhere is not in the mirror {mirror}",
    )
    missing = tmp_path / "no-mirror"
    assert_clean_failure(
        register(f"{REPO}@main", str(missing)),
        2,
        f"--hub {REPO}@main: the hub mirror {missing} does not exist",
    )
    assert_clean_failure(
        vendor.medval("model", "register", "--hub", f"{REPO}@main"),
        2,
        f"--hub {REPO}@main: no hub mirror is set; give --hub-mirror DIR or set MEDVAL_HUB_MIRROR",
    )
    empty = tmp_path / "mirror"
    commit = write_repo(empty, "medval-demo/readme-only", {"README.md": b"# just a card\n"})
    assert_clean_failure(
        register("medval-demo/readme-only@main", str(empty)),
        2,
        f"hub repository medval-demo/readme-only at commit {commit} holds no cube",
    )
    assert_clean_failure(
        vendor.medval("model", "register", "./x", "--hub", f"{REPO}@main"),
        2,
        "give a cube folder (or its parts) or --hub REPO@REVISION, not both",
    )
    names = [c["name"] for c in vendor.json("model", "list", "--mine")]
    assert names.count("hub-logistic") == 1  # nothing else was registered


def test_the_site_runs_it_from_its_own_mirror_only_when_every_file_matches(
    hub_model: HubModel,
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
    tmp_path: Path,
) -> None:
    hospital = people["hospital-a"]
    site = assets.sites[E2E_SITES[0]].data_path.parent
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "hub-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "hub-site", "--yes")
    hospital.ok("dataset", "associate", "hub-site", "--yes")
    committee = people["committee"]
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    run = ("run", "--model", str(hub_model.id), "--yes")

    # The site copied the vendor's mirror over (as it would a USB disk), links and all.
    good = tmp_path / "site-mirror"
    shutil.copytree(hub_model.mirror, good, symlinks=True)
    label = f"model hub-logistic ({REPO}@main (commit {hub_model.commit}))"

    tampered = tmp_path / "tampered"
    shutil.copytree(good, tampered, symlinks=True)
    weights = blob_of(tampered, REPO, hub_model.commit, "weights.json")
    weights.write_bytes(weights.read_bytes().replace(b"0", b"9", 1))
    failed = with_mirror(hospital, tampered).medval(*run)
    assert_clean_failure(failed, 6, f"{label}: weights.json in the mirror")
    assert "does not match its registered hash" in failed.stderr
    assert weights.is_file()

    no_file = tmp_path / "no-file"
    shutil.copytree(good, no_file, symlinks=True)
    (no_file / STORAGE / "snapshots" / hub_model.commit / "infer.py").unlink()
    assert_clean_failure(
        with_mirror(hospital, no_file).medval(*run), 4, f"{label}: infer.py is missing"
    )

    other = tmp_path / "other-commit"
    write_repo(other, REPO, {"medval-cube.yaml": b"name: x\nkind: model\n"})
    assert_clean_failure(
        with_mirror(hospital, other).medval(*run),
        4,
        f"revision {hub_model.commit} of hub repository {REPO} is not in the mirror {other}",
    )
    assert_clean_failure(hospital.medval(*run), 2, f"{label}: no hub mirror is set")
    # Nothing was recorded or lost: the dataset is there, nothing ran, the mirrors are whole.
    assert hospital.json("results", "list", "--local") == []
    assert sorted(p.name for p in (good / STORAGE / "blobs").iterdir()) == sorted(
        p.name for p in (hub_model.mirror / STORAGE / "blobs").iterdir()
    )

    with_mirror(hospital, good).ok(*run)
    (result,) = hospital.json("results", "list", "--local")
    assert result["model_id"] == hub_model.id and result["status"] == "succeeded"
