"""A private model on every runner (issue 16): the MedPerf test model, its weights in its
additional files (a tarball, the MedPerf way: ``-m -p -a``), registered ``--private``.
Its image is not sealed (said at registration); its additional files are. At a site on
bubblewrap, Docker and Podman, with the model's key, it gives exactly the numbers of
the same model registered in clear (the benchmark's reference model: the same image
and weights), and nothing of it in clear stays in the site's folder.

Each site gets the key as every site does: wrapped to its own encryption key by
``medval model keys sync`` and released by the server while its association is approved."""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.core.scratch import MEMORY_BACKED
from medval.demo import data
from tests.e2e.clear_scan import files_holding
from tests.e2e.conftest import Server
from tests.e2e.people import Person
from tests.medperf.images import CUBES, build_images
from tests.runner.engines import EngineUnavailable, docker_daemon

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.container]

RUNNERS = ("local", "docker", "podman")
SITE = "gbsg"
WEIGHTS = CUBES / "model" / "workspace" / "additional_files"


@dataclass(frozen=True)
class Sites:
    private_id: int
    reference_id: int
    registration: str  # what the private registration said on stderr
    hospitals: dict[str, Person]  # by runner kind
    weights: list[bytes]  # the model's weight files, in clear


def _demo_data(root: Path) -> Path:
    site = data.write_demo_data(root / "demo-data")
    return site.data_path.parent


def _additional_files(root: Path) -> Path:
    tarball = root / "additional_files.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(WEIGHTS, arcname=".")
    return tarball


@pytest.fixture(scope="module")
def docker_images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    try:
        with docker_daemon(tmp_path_factory.mktemp("dockerd")):
            from medval.runner.docker import DockerRunner

            yield build_images(DockerRunner())
    except EngineUnavailable as reason:
        pytest.fail(f"Docker cannot be used here: {reason}")


@pytest.fixture(scope="module")
def sites(
    server: Server, docker_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Sites:
    root = tmp_path_factory.mktemp("private-containers")
    homes = root / "homes"
    admin = Person("admin", homes / "admin", server.url)
    admin.ok("login", "--username", "admin")
    people = {}
    accounts = [("pm-committee", "docker"), ("pm-vendor", "docker")]
    accounts += [(f"pm-hospital-{kind}", kind) for kind in RUNNERS]
    for name, runner in accounts:
        admin.ok("users", "create", name)
        people[name] = Person(name, homes / name, server.url, runner=runner)
        people[name].ok("login", "--username", name)
    committee, vendor = people["pm-committee"], people["pm-vendor"]
    prep = committee.json("cube", "register", str(CUBES / "prep"), "--name", "pm-prep")["id"]
    metrics = committee.json("cube", "register", str(CUBES / "metrics"), "--name", "pm-metrics")
    reference = committee.json("model", "register", str(CUBES / "model"), "--name", "pm-reference")
    benchmark = committee.json(
        "benchmark", "register", "--name", "private-breast",
        "--data-preparator", str(prep), "--reference-model", str(reference["id"]),
        "--evaluator", str(metrics["id"]), "--demo-data", str(_demo_data(root)),
    )["id"]  # fmt: skip
    admin.ok("benchmark", "approve", "--yes", str(benchmark))
    bid = str(benchmark)

    registered = vendor.medval(
        "model", "register", "--private", "--name", "pm-private",
        "--container-config", str(CUBES / "model" / "container_config.yaml"),
        "--parameters", str(CUBES / "model" / "workspace" / "parameters.yaml"),
        "--additional-files", str(_additional_files(root)), "--format", "json",
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    private = json.loads(registered.stdout)
    vendor.ok("model", "associate", str(private["id"]), "--benchmark", bid, "--yes")

    hospitals = {kind: people[f"pm-hospital-{kind}"] for kind in RUNNERS}
    for kind, hospital in hospitals.items():
        site = data.write_site(SITE, root / "sites" / kind)
        name = f"site-{kind}"
        hospital.ok(
            "dataset", "prepare", "--benchmark", bid, "--name", name,
            "--data-path", str(site.data_path), "--labels-path", str(site.labels_path),
        )  # fmt: skip
        hospital.ok("dataset", "register", name, "--yes")
        hospital.ok("dataset", "associate", name, "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    # The key reaches each approved site wrapped to its own key, released by the server.
    synced = vendor.ok("model", "keys", "sync", str(private["id"]))
    assert sorted(synced.split()) == sorted(
        [f"{h.username}:" for h in hospitals.values()] + ["granted"] * len(hospitals)
    ), synced
    for hospital in hospitals.values():
        hospital.ok("run", "--yes")
    weights = [p.read_bytes() for p in sorted(WEIGHTS.rglob("*")) if p.is_file()]
    return Sites(private["id"], reference["id"], registered.stderr, hospitals, weights)


def test_the_image_is_said_to_be_not_sealed_at_registration(sites: Sites) -> None:
    assert (
        "note: model pm-private is private, but its container image is uploaded as it is, "
        "not sealed: only the cube folder (its additional files, where its weights belong) "
        "is protected"
    ) in " ".join(sites.registration.split())


def test_a_private_model_gives_the_numbers_of_the_same_model_in_clear_on_every_runner(
    sites: Sites,
) -> None:
    for kind, hospital in sites.hospitals.items():
        results = {r["model_id"]: r for r in hospital.json("results", "list", "--local")}
        private, clear = results[sites.private_id], results[sites.reference_id]
        assert private["status"] == clear["status"] == "succeeded", (kind, private["failure"])
        assert private["document"] == clear["document"], kind
        assert private["document"]["metrics"], kind


def test_nothing_of_it_in_clear_stays_at_any_site(sites: Sites) -> None:
    assert sites.weights and all(len(w) > 16 for w in sites.weights)
    for kind, hospital in sites.hospitals.items():
        roots = [hospital.home, MEMORY_BACKED / f"medval-private-{os.getuid()}"]
        assert files_holding(roots, sites.weights) == [], kind
        cubes = next(a for a in hospital.json("storage", "list") if a["area"] == "cubes")
        assert "1 sealed" in cubes["holds"], kind
