"""A MedPerf user's own cubes, data and habits, through the whole CLI, on all three runners.

The cubes (tests/medperf/cubes) are written in MedPerf's formats as its documentation
describes them: a preparation cube whose statistics file is bound directly under ``/``, a
model whose weights are additional files and whose ``run_args`` set an environment
variable, a working directory and GPUs, the same model in MLCube's older layout, a model
that fails at the hospitals, and a metrics cube whose ``results.yaml`` holds nested
mappings, a NaN, a per-case list and a note. Their images are built here with
``docker build`` (no registry) and travel as the archives registered with the cubes.

The committee registers on Docker; one hospital prepares and runs on each runner
(bubblewrap, Docker, Podman), and every runner must give the very same numbers.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medval.demo import data
from tests.e2e.conftest import Server
from tests.e2e.people import Person
from tests.medperf.images import CUBES, build_images
from tests.runner.engines import EngineUnavailable, docker_daemon

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.container]

RUNNERS = ("local", "docker", "podman")
SITES = {"local": "rotterdam-1990-93", "docker": "gbsg", "podman": "rotterdam-1988-89"}


@dataclass(frozen=True)
class MedperfFederation:
    benchmark_id: int
    models: dict[str, int]  # reference, vendor (-m -p -a), mlcube, broken
    hospitals: dict[str, Person]  # by runner kind
    committee: Person
    vendor: Person
    runs: dict[str, str]  # each hospital's `medval run` output (stdout + stderr)
    reviews: dict[str, str]  # each hospital's dataset registration review


def _demo_tarball(root: Path) -> Path:
    """The demo data as MedPerf's tutorial packs it: demo_data/ and paths.yaml, tar -czf."""
    work = root / "demo-work"
    site = data.write_demo_data(work / "raw")
    (work / "demo_data").mkdir()
    shutil.move(site.data_path, work / "demo_data" / "records")
    shutil.move(site.labels_path, work / "demo_data" / "outcomes")
    (work / "paths.yaml").write_text(
        "data_path: demo_data/records\nlabels_path: demo_data/outcomes\n"
    )
    tarball = root / "demo_data.tar.gz"
    subprocess.run(
        ["tar", "-czf", str(tarball), "-C", str(work), "demo_data", "paths.yaml"], check=True
    )
    return tarball


def _additional_files(root: Path) -> Path:
    """The model's additional files as MedPerf hosts them: a tarball of their folder."""
    tarball = root / "additional_files.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(CUBES / "model" / "workspace" / "additional_files", arcname=".")
    return tarball


def _mlcube_model(root: Path) -> Path:
    """The same model in MLCube's layout: mlcube.yaml and the model's workspace."""
    folder = root / "mlcube-model"
    shutil.copytree(CUBES / "model" / "workspace", folder / "workspace")
    shutil.copy(CUBES / "model_mlcube.yaml", folder / "mlcube.yaml")
    return folder


@pytest.fixture(scope="module")
def docker_images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    try:
        with docker_daemon(tmp_path_factory.mktemp("dockerd")):
            from medval.runner.docker import DockerRunner

            yield build_images(DockerRunner())
    except EngineUnavailable as reason:
        pytest.fail(f"Docker cannot be used here: {reason}")


@pytest.fixture(scope="module")
def medperf(
    server: Server, docker_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> MedperfFederation:
    root = tmp_path_factory.mktemp("medperf")
    homes = root / "homes"
    admin = Person("admin", homes / "admin", server.url)
    admin.ok("login", "--username", "admin")
    people = {}
    accounts = [("mp-committee", "docker"), ("mp-vendor", "docker")]
    accounts += [(f"mp-hospital-{kind}", kind) for kind in RUNNERS]
    for name, runner in accounts:
        admin.ok("users", "create", name)
        people[name] = Person(name, homes / name, server.url, runner=runner)
        people[name].ok("login", "--username", name)
    committee, vendor = people["mp-committee"], people["mp-vendor"]

    prep = committee.json("cube", "register", str(CUBES / "prep"))["id"]
    metrics = committee.json("cube", "register", str(CUBES / "metrics"))["id"]
    reference = committee.json("model", "register", str(CUBES / "model"))["id"]
    benchmark = committee.json(
        "benchmark", "register", "--name", "medperf-breast",
        "--data-preparator", str(prep), "--reference-model", str(reference),
        "--evaluator", str(metrics), "--demo-data", str(_demo_tarball(root)),
    )["id"]  # fmt: skip
    admin.ok("benchmark", "approve", str(benchmark))
    bid = str(benchmark)

    models = {"reference": reference}
    models["vendor"] = vendor.json(
        "model", "register", "--name", "breast-logistic-vendor",
        "--container-config", str(CUBES / "model" / "container_config.yaml"),
        "--parameters", str(CUBES / "model" / "workspace" / "parameters.yaml"),
        "--additional-files", str(_additional_files(root)),
    )["id"]  # fmt: skip
    models["mlcube"] = vendor.json("model", "register", str(_mlcube_model(root)))["id"]
    models["broken"] = vendor.json("model", "register", str(CUBES / "broken_model"))["id"]
    for key in ("vendor", "mlcube", "broken"):
        vendor.ok("model", "associate", str(models[key]), "--benchmark", bid, "--yes")

    hospitals = {kind: people[f"mp-hospital-{kind}"] for kind in RUNNERS}
    reviews, runs = {}, {}
    for kind, hospital in hospitals.items():
        site = data.write_site(SITES[kind], root / "sites" / kind)
        name = f"site-{kind}"
        hospital.ok(
            "dataset", "prepare", "--benchmark", bid, "--name", name,
            "--data-path", str(site.data_path), "--labels-path", str(site.labels_path),
        )  # fmt: skip
        registered = hospital.medval("dataset", "register", name, "--yes")
        assert registered.code == 0, registered.stderr
        reviews[kind] = registered.stdout + registered.stderr
        hospital.ok("dataset", "associate", name, "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    for kind, hospital in hospitals.items():
        ran = hospital.medval("run", "--yes")
        runs[kind] = ran.stdout + ran.stderr
        hospital.ok("results", "upload", "--all", "--yes")
    return MedperfFederation(benchmark, models, hospitals, committee, vendor, runs, reviews)


def _site_metrics(board: dict[str, Any], model_id: int) -> dict[str, dict[str, Any]]:
    entry = next(e for e in board["entries"] if e["model_id"] == model_id)
    return {site["dataset"]: site["metrics"] for site in entry["sites"]}


def test_every_runner_gives_the_same_numbers_for_medperf_cubes(medperf: MedperfFederation) -> None:
    board = medperf.committee.json("benchmark", "leaderboard", str(medperf.benchmark_id))
    by_site = _site_metrics(board, medperf.models["reference"])
    assert sorted(by_site) == [f"site-{kind}" for kind in sorted(RUNNERS)]
    # The same model, the same weights, three different sites: real, different numbers.
    aucs = {site: metrics["auc"]["value"] for site, metrics in by_site.items()}
    assert all(0.5 < value < 1.0 for value in aucs.values()), aucs
    # The model registered the MedPerf way (-m -p -a) and in MLCube's layout score
    # exactly as the reference (the same image and weights), on every runner.
    for key in ("vendor", "mlcube"):
        assert _site_metrics(board, medperf.models[key]) == by_site, key
