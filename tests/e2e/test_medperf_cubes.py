"""A MedPerf user's own cubes, data and habits, through the whole CLI, on all three runners.

The cubes (tests/medperf/cubes) are written in MedPerf's formats as its documentation
describes them: a preparation cube whose statistics file is bound directly under ``/``, a
model whose weights are additional files and whose ``run_args`` set an environment
variable, a working directory and GPUs, the same model in MLCube's older layout, a model
that fails at the hospitals, and a metrics cube whose ``results.yaml`` holds nested
mappings, a NaN, a per-case list and a note. Their images are built here with
``docker build`` (no registry) and travel as the archives registered with the cubes.

The committee and the vendor register on Docker; three hospitals, one per runner
(bubblewrap, Docker, Podman), prepare the same export and run every model: every runner
must give the very same numbers, the failing model must be a recorded failure at each,
and what medval does not send must be named in the reviews and absent from the server.
"""

from __future__ import annotations

import json
import re
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

# The module's federation (images built with docker build, five people, three runners)
# is set up inside its first test's time: 205 to 236 s on a clean-clone `make test` of a
# 2-core machine, too near the suite's 300 s for a slower one.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sandbox,
    pytest.mark.container,
    pytest.mark.timeout(900),
]

RUNNERS = ("local", "docker", "podman")
SITE = "gbsg"  # the same export at every hospital: the runners must agree exactly


@dataclass(frozen=True)
class MedperfFederation:
    benchmark_id: int
    models: dict[str, int]  # reference, vendor (-m -p -a), mlcube, broken
    hospitals: dict[str, Person]  # by runner kind
    committee: Person
    vendor: Person
    runs: dict[str, tuple[int, str]]  # each hospital's `medval run`: exit code, output
    reviews: dict[str, str]  # each hospital's dataset preparation and registration output
    uploads: dict[str, str]  # each hospital's `results upload --all` review
    vendor_registration: str  # what `model register -m -p -a` printed


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

    prep = committee.json("cube", "register", str(CUBES / "prep"), "--name", "mp-prep")["id"]
    metrics = committee.json("cube", "register", str(CUBES / "metrics"), "--name", "mp-metrics")[
        "id"
    ]
    reference = committee.json("model", "register", str(CUBES / "model"), "--name", "mp-reference")[
        "id"
    ]
    benchmark = committee.json(
        "benchmark", "register", "--name", "medperf-breast",
        "--data-preparator", str(prep), "--reference-model", str(reference),
        "--evaluator", str(metrics), "--demo-data", str(_demo_tarball(root)),
    )["id"]  # fmt: skip
    admin.ok("benchmark", "approve", "--yes", str(benchmark))
    bid = str(benchmark)

    models = {"reference": reference}
    registered = vendor.medval(
        "model", "register", "--name", "breast-logistic-vendor",
        "--container-config", str(CUBES / "model" / "container_config.yaml"),
        "--parameters", str(CUBES / "model" / "workspace" / "parameters.yaml"),
        "--additional-files", str(_additional_files(root)), "--format", "json",
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    models["vendor"] = json.loads(registered.stdout)["id"]
    models["mlcube"] = vendor.json("model", "register", str(_mlcube_model(root)))["id"]
    models["broken"] = vendor.json(
        "model", "register", str(CUBES / "broken_model"), "--name", "mp-broken"
    )["id"]
    for key in ("vendor", "mlcube", "broken"):
        vendor.ok("model", "associate", str(models[key]), "--benchmark", bid, "--yes")

    hospitals = {kind: people[f"mp-hospital-{kind}"] for kind in RUNNERS}
    reviews, runs, uploads = {}, {}, {}
    for kind, hospital in hospitals.items():
        site = data.write_site(SITE, root / "sites" / kind)
        name = f"site-{kind}"
        prepared = hospital.medval(
            "dataset", "prepare", "--benchmark", bid, "--name", name,
            "--data-path", str(site.data_path), "--labels-path", str(site.labels_path),
        )  # fmt: skip
        assert prepared.code == 0, prepared.stderr
        review = hospital.medval("dataset", "register", name, "--yes")
        assert review.code == 0, review.stderr
        reviews[kind] = prepared.stderr + review.stdout + review.stderr
        hospital.ok("dataset", "associate", name, "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    for kind, hospital in hospitals.items():
        ran = hospital.medval("run", "--yes")
        runs[kind] = (ran.code, ran.stdout + ran.stderr)
        uploaded = hospital.medval("results", "upload", "--all", "--yes")
        assert uploaded.code == 0, uploaded.stderr
        uploads[kind] = uploaded.stdout + uploaded.stderr
    return MedperfFederation(
        benchmark, models, hospitals, committee, vendor, runs, reviews, uploads,
        registered.stderr,
    )  # fmt: skip


def _site_metrics(board: dict[str, Any], model_id: int) -> dict[str, dict[str, Any]]:
    entry = next(e for e in board["entries"] if e["model_id"] == model_id)
    return {site["dataset"]: site["metrics"] for site in entry["sites"]}


def test_every_runner_gives_the_same_numbers_for_medperf_cubes(medperf: MedperfFederation) -> None:
    board = medperf.committee.json("benchmark", "leaderboard", str(medperf.benchmark_id))
    by_site = _site_metrics(board, medperf.models["reference"])
    assert sorted(by_site) == [f"site-{kind}" for kind in sorted(RUNNERS)]
    first = by_site["site-local"]
    # The evaluator's own metrics, named by their path in its results.yaml.
    assert list(first) == [
        "auc", "accuracy", "per_class_event_recall", "per_class_no_event_recall",
        "high_risk_ppv",
    ]  # fmt: skip
    assert 0.6 < first["auc"]["value"] < 0.9, first
    # NaN at the site (no case reaches the high-risk threshold) is missing, not refused.
    assert first["high_risk_ppv"]["value"] is None
    # The same export on bubblewrap, Docker and Podman: the very same numbers.
    assert by_site["site-docker"] == first and by_site["site-podman"] == first
    # The model registered the MedPerf way (-m -p -a) and in MLCube's layout scores
    # exactly as the reference (the same image and weights) on every runner: its
    # environment (RISK_MODEL), WORKDIR (python3 infer.py) and weights were all there.
    for key in ("vendor", "mlcube"):
        assert _site_metrics(board, medperf.models[key]) == by_site, key
    ranked = [entry["model_id"] for entry in board["entries"]]
    assert board["primary_metric"] == "auc" and ranked[-1] == medperf.models["broken"]


def test_a_model_failing_at_the_sites_is_a_recorded_failure_on_every_runner(
    medperf: MedperfFederation,
) -> None:
    verdict = "task 'infer' of cube 'mp-broken' failed with exit code 2"
    for kind, (code, output) in medperf.runs.items():
        # The run went on with the other models and says which one failed.
        assert code == 8, (kind, output)
        assert "cannot score" in output and "kept as a failed execution" in output, kind
    for person in (medperf.committee, medperf.vendor):
        rows = person.json("results", "list", "--benchmark", str(medperf.benchmark_id))
        failed = [r for r in rows if r["model_id"] == medperf.models["broken"]]
        assert sorted(r["dataset"] for r in failed) == [f"site-{k}" for k in sorted(RUNNERS)]
        assert {(r["status"], r["failure"], r["document"]) for r in failed} == {
            ("failed", verdict, None)
        }
    board = medperf.vendor.json("benchmark", "leaderboard", str(medperf.benchmark_id))
    broken = next(e for e in board["entries"] if e["model_id"] == medperf.models["broken"])
    assert (broken["n_sites"], broken["n_failed"], broken["pooled"]) == (0, 3, {})


def test_what_medval_does_not_send_is_named_in_each_review_and_never_sent(
    medperf: MedperfFederation, server: Server
) -> None:
    for kind in RUNNERS:
        review, upload = medperf.reviews[kind], medperf.uploads[kind]
        assert "Left out of" in review and "ages" in review and "note" in review, kind
        assert "brier_per_case" in upload and "notes" in upload, kind
    # Nothing of what was left out reached the server's database.
    stored = b"".join(path.read_bytes() for path in server.data_dir.rglob("*.db*"))
    for name in (
        b"brier_per_case",
        b"ages",
        b"75_and_over",
        b"threshold 0.5",
        b"outcome within five",
    ):
        assert name not in stored, name
    dataset = medperf.hospitals["docker"].json("dataset", "list")
    statistics = next(d for d in dataset if d["name"] == "site-docker")["statistics"]
    assert statistics["values"]["events_yes"] > 0 and "ages" not in statistics["values"]
    # A count of a few patients (75 and over) is withheld by medval itself, with the
    # smallest other count of its group, so that it cannot be recovered from the total.
    bands = [name for name in statistics["values"] if name.startswith("age_band")]
    assert bands == ["age_band_40_to_74"]
    for kind in RUNNERS:
        review = " ".join(medperf.reviews[kind].split())  # as read, whatever the wrapping
        small = r"age_band_75_and_over: a count of \d, below the minimum cell size 10"
        assert re.search(small, review), kind
        total = "age_band_under_40: withheld with age_band_75_and_over: a total would reveal it"
        assert total in review, kind
    # MedPerf's metadata folder went from prepare to statistics (on every runner), and
    # the preparation report stayed at the hospital: named, never sent.
    assert statistics["values"]["censored_early"] > 0
    for kind in RUNNERS:
        kept = [line for line in medperf.reviews[kind].splitlines() if "never sent: " in line]
        assert [Path(line.split("never sent: ")[1]).name for line in kept] == [
            "metadata",
            "report.yaml",
        ], kind
    assert b"censored_early: " not in stored and b"status: done" not in stored


def test_what_medval_does_not_honour_is_said_at_registration_and_on_cube_show(
    medperf: MedperfFederation,
) -> None:
    for text in (
        medperf.vendor_registration,
        medperf.vendor.medval("cube", "show", str(medperf.models["vendor"])).stderr,
    ):
        # gpus: all is read as a cube that can use a GPU (core.gpus), no longer a note.
        assert "GPU: the cube can use a GPU (runs without one)" in text, text
        assert "shm_size" in text, text
