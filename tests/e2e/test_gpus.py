"""GPUs through the real CLI (issue 16): a model that needs a GPU is shown as such by
``cube show`` and in the plan before the run; run without one it is refused in one line
(exit 2) before any task runs and nothing is recorded; run with ``--gpus 0`` against a
folder of fake NVIDIA device files (this machine has no GPU), its task sees them.

The local runner only: the fake files stand in for device nodes where bubblewrap binds
them; Docker and Podman hand GPUs to NVIDIA's own hook (``tests/runner/test_runner_gpus.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

# At the hospital (mode.txt says "site"), the model fails unless it sees its GPU's files.
_MODEL = """
    site = open(os.path.join(args["data_path"], "mode.txt")).read() == "site"
    seen = [name for name in ("nvidia0", "nvidia1", "nvidiactl") if os.path.exists("/dev/" + name)]
    if site and seen != ["nvidia0", "nvidiactl"]:
        sys.exit(print("no GPU: /dev has " + repr(seen), file=sys.stderr) or 3)
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("ok")
    """
_EVALUATE = """
    assert open(os.path.join(args["predictions"], "predictions.csv")).read() == "ok"
    json.dump({"n_cases": 100, "n_positive": 50, "metrics": {"auroc": {"value": 0.5}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """
NEEDS = "GPU: the cube needs a GPU (run it with --gpus all or --gpus IDS)"


@pytest.fixture(scope="module")
def gpu_site(
    people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Person, int, int]:
    """A hospital with fake device files, a benchmark, and an approved model that needs a
    GPU; returns the hospital (local runner), the benchmark and the model."""
    root = tmp_path_factory.mktemp("gpus")
    devices = root / "dev"
    devices.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl"):
        (devices / name).write_bytes(b"")
        (devices / name).chmod(0o666)
    committee, vendor = people["committee"], people["vendor"]
    cubes = (
        write_cube(root, "gpu-prep", "data_preparator", copying_prep({"n_cases": 100})),
        write_cube(root, "gpu-reference", "model", {"infer.py": _MODEL}),
        write_cube(root, "gpu-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    benchmark = register_benchmark(
        committee, people["admin"], "gpus", cubes, write_site(root / "demo", "demo")
    ).id
    model_folder = write_cube(root, "gpu-model", "model", {"infer.py": _MODEL})
    spec = model_folder / "medval-cube.yaml"
    spec.write_text(spec.read_text() + "gpu: needs\n")
    model = vendor.json("model", "register", str(model_folder))["id"]
    vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark), "--yes")
    hospital = dataclasses.replace(
        people["hospital-a"], runner="local", environment=(("MEDVAL_DEVICE_ROOT", str(devices)),)
    )
    site = write_site(root / "site", "site")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark), "--name", "gpu-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "gpu-site", "--yes")
    hospital.ok("dataset", "associate", "gpu-site", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    return hospital, benchmark, model


def test_a_model_that_needs_a_gpu_is_shown_refused_without_one_and_run_with_one(
    gpu_site: tuple[Person, int, int],
) -> None:
    hospital, benchmark, model = gpu_site
    assert NEEDS in hospital.medval("cube", "show", str(model)).stderr

    refused = hospital.medval("run", "--benchmark", str(benchmark), "--model", str(model), "--yes")
    assert_clean_failure(
        refused,
        2,
        "model gpu-model needs a GPU and this run gives none: "
        "run with --gpus all or --gpus IDS on a machine with one",
    )
    assert "needs" in refused.stdout  # the plan's GPU column, shown before the refusal
    assert "infer" not in refused.stderr  # no task ran
    assert hospital.json("results", "list", "--local") == []  # nothing recorded

    ran = hospital.medval(
        "run", "--benchmark", str(benchmark), "--model", str(model), "--gpus", "0", "--yes"
    )
    assert ran.code == 0, ran.stderr
    assert "GPUs given to models that use one: GPU 0" in ran.stderr
    local = hospital.json("results", "list", "--local")
    assert [(r["model"], r["status"]) for r in local] == [("gpu-model", "succeeded")]


def test_a_private_models_gpu_need_is_shown_without_its_key(
    people: dict[str, Person], tmp_path: Path
) -> None:
    """Its spec is sealed, so the need its owner's client read from it at registration is
    recorded in clear: ``cube show`` says it to a site that holds no key."""
    folder = write_cube(tmp_path, "gpu-private", "model", {"infer.py": _MODEL})
    spec = folder / "medval-cube.yaml"
    spec.write_text(spec.read_text() + "gpu: needs\n")
    registered = people["vendor"].medval("model", "register", str(folder), "--private")
    assert registered.code == 0, registered.stderr
    assert NEEDS in registered.stderr
    model = people["vendor"].json("model", "list", "--mine")[-1]
    assert model["name"] == "gpu-private" and model["sealed"]["gpu"] == "needs"
    shown = people["hospital-b"].medval("cube", "show", str(model["id"]))
    assert shown.code == 0, shown.stderr
    assert "model gpu-private is private: its archive is sealed" in shown.stderr
    assert NEEDS in shown.stderr
