"""A private model on every runner (issue 16): the MedPerf test model, its weights in its
additional files (a tarball, the MedPerf way: ``-m -p -a``), registered ``--private``,
its image a layer over the reference model's that holds a canary (weights baked into an
image). Its archive and its image are sealed. At a site on bubblewrap, Docker and Podman,
with the model's key, it gives exactly the numbers of the same model registered in clear
(the benchmark's reference model: the same code and weights); nothing of it in clear
stays in the site's folder, nor in Docker's or Podman's images, and the server holds
neither the canary nor the image archive in clear.

Each site gets the key as every site does: wrapped to its own encryption key by
``medval model keys sync`` and released by the server while its association is approved."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.core.scratch import MEMORY_BACKED
from medval.demo import data
from medval.runner.docker import DockerRunner
from medval.runner.podman import PodmanRunner
from tests.e2e.clear_scan import files_holding
from tests.e2e.conftest import Server
from tests.e2e.people import Person, assert_clean_failure
from tests.medperf.images import CUBES, build_images
from tests.runner.engines import EngineUnavailable, docker_daemon

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.container]

RUNNERS = ("local", "docker", "podman")
SITE = "gbsg"
WEIGHTS = CUBES / "model" / "workspace" / "additional_files"
PRIVATE_IMAGE = "medperf-test/breast-logistic-private:1.0"
CANARY = b"canary-5d1e-weights-baked-into-a-private-image-layer"


@dataclass(frozen=True)
class Sites:
    private_id: int
    reference_id: int
    registration: str  # what the private registration said on stderr
    hospitals: dict[str, Person]  # by runner kind
    weights: list[bytes]  # the model's weight files, in clear
    image_id: str  # the private model's own image
    image_archive_hash: str  # its archive in clear
    image_sealed_hash: str  # its archive sealed, as the server holds it


def _demo_data(root: Path) -> Path:
    site = data.write_demo_data(root / "demo-data")
    return site.data_path.parent


def _private_image(root: Path) -> tuple[Path, str]:
    """The reference model's image plus a layer holding the canary, built in Docker, and
    a copy of its container config naming it; (that config, the image's ID)."""
    context = root / "private-image"
    context.mkdir()
    (context / "canary.bin").write_bytes(CANARY)
    (context / "Dockerfile").write_text(
        "FROM medperf-test/breast-logistic:1.0\nCOPY canary.bin /opt/baked/canary.bin\n"
    )
    built = subprocess.run(
        ["docker", "build", "--quiet", "--network", "none", "--tag", PRIVATE_IMAGE, str(context)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    image_id = DockerRunner().image_id(PRIVATE_IMAGE)
    assert image_id is not None
    config = root / "private_container_config.yaml"
    text = (CUBES / "model" / "container_config.yaml").read_text()
    config.write_text(text.replace("medperf-test/breast-logistic:1.0", PRIVATE_IMAGE))
    return config, image_id


def _additional_files(root: Path) -> Path:
    tarball = root / "additional_files.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(WEIGHTS, arcname=".")
    return tarball


@pytest.fixture(scope="module")
def docker_images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    try:
        with docker_daemon(tmp_path_factory.mktemp("dockerd")):
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

    config, image_id = _private_image(root)
    registered = vendor.medval(
        "model", "register", "--private", "--name", "pm-private",
        "--container-config", str(config),
        "--parameters", str(CUBES / "model" / "workspace" / "parameters.yaml"),
        "--additional-files", str(_additional_files(root)), "--format", "json",
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    private = json.loads(registered.stdout)
    assert private["image_digest"] == image_id
    # The sites are other machines: the Docker site's engine (this daemon) must not hold
    # the vendor's build of it.
    removed = subprocess.run(["docker", "rmi", "--force", image_id], capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
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
    return Sites(
        private["id"],
        reference["id"],
        registered.stderr,
        hospitals,
        weights,
        image_id,
        private["image_archive_hash"],
        private["sealed"]["image_sealed_hash"],
    )


def test_the_image_is_said_to_be_sealed_at_registration(sites: Sites) -> None:
    assert (
        "note: model pm-private is private: its container image is sealed too (a site loads "
        "it in clear only for its runs, and removes what it loaded after)"
    ) in " ".join(sites.registration.split())


def test_the_server_holds_the_image_sealed_only(sites: Sites, server: Server) -> None:
    stored = [p for p in server.data_dir.rglob("*") if p.is_file()]
    names = {p.name for p in stored}
    assert sites.image_archive_hash not in names  # no blob named by the clear image's hash
    assert sites.image_sealed_hash in names  # the ciphertext, which the scan below reads
    assert files_holding([server.data_dir], [CANARY]) == []


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
        assert files_holding(roots, [*sites.weights, CANARY]) == [], kind
        cubes = next(a for a in hospital.json("storage", "list") if a["area"] == "cubes")
        assert "2 sealed" in cubes["holds"], kind  # the archive and the image
    # Neither engine kept the image it loaded for the runs.
    for engine in (DockerRunner(), PodmanRunner()):
        assert engine.image_id(sites.image_id) is None, engine.program


def test_a_sealed_image_changed_by_one_byte_is_refused_before_it_runs(sites: Sites) -> None:
    hospital = sites.hospitals["local"]
    cached = hospital.home / "cubes" / f"{sites.image_sealed_hash}.image.sealed"
    good = cached.read_bytes()
    changed = bytearray(good)
    changed[len(changed) // 2] ^= 0x01
    cached.write_bytes(bytes(changed))
    logs = sorted((hospital.home / "logs").glob(f"*-{sites.private_id}-infer-*.log"))
    try:
        failed = hospital.medval("run", "--model", str(sites.private_id), "--force", "--yes")
        assert_clean_failure(
            failed,
            6,
            f"sealed image of model pm-private (cached at {cached}): content hash "
            f"{hashlib.sha256(bytes(changed)).hexdigest()[:12]}… does not match the "
            f"registered {sites.image_sealed_hash[:12]}…",
        )
        # Nothing ran: no new log of the model's task.
        assert sorted((hospital.home / "logs").glob(f"*-{sites.private_id}-infer-*.log")) == logs
    finally:
        cached.write_bytes(good)
