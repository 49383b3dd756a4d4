"""``medval demo --training``: the demo's four hospitals train a model on Flower, and it
joins the benchmark beside the vendors' models.

Played after the hospitals have prepared and registered their data for the benchmark,
with the same accounts, every step a ``medval`` command: the committee (here also the
training owner and the aggregator's operator) registers the training cube and an
experiment over the benchmark's own preparation cube; the admin approves; each hospital
joins with the dataset it prepared for the benchmark, and is approved; the committee starts
the aggregator on this machine while each hospital's site trains in the sandbox. The final
model, a model cube of the committee's, asks to join the benchmark (the admin approves:
whoever asks never approves). Beside it, for comparison only, the same model trained
centrally on the four hospitals' data pooled in one place, which federation avoids.
"""

from __future__ import annotations

import signal
import socket
from typing import TYPE_CHECKING

from medval.demo import data
from medval.demo.federated import (
    build_training_cube,
    central_final_model,
    model_cube_from_final_model,
    write_prepared_site,
)

if TYPE_CHECKING:
    from medval.demo.actors import Actor, Demo

EXPERIMENT = "breast-rfs5-federated"
CENTRAL_MODEL = "breast-rfs5-central-pooled"
ROUNDS = 5
LOCAL_EPOCHS = 20
PLAN = f"""# The committee's plan: FedAvg over the four hospitals.
rounds: {ROUNDS}
min_sites: 4
strategy: FedAvg
local_epochs: {LOCAL_EPOCHS}
seed: 2026
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def play_training(
    demo: Demo, admin: Actor, committee: Actor, hospitals: list[Actor], bid: str
) -> None:
    """Steps 3a to 3d (see the module docstring); the hospitals then run the new models
    with the others in Step 4."""
    workdir = demo.workdir
    demo.section("Step 3a: the committee registers a training experiment (Flower)")
    cube_folder = build_training_cube(workdir / "cubes" / "training")
    cube = demo.medval_json(committee, "cube", "register", str(cube_folder))
    port = _free_port()
    demo.medval(
        committee, "aggregator", "register", "demo-aggregator",
        "--address", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    plan = workdir / "committee" / "training-plan.yaml"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(PLAN)
    prep_id = str(demo.medval_json(committee, "benchmark", "show", bid)["data_preparator_id"])
    demo.medval(
        committee, "training", "register", EXPERIMENT, "--prep", prep_id,
        "--training-cube", str(cube["id"]), "--plan", str(plan),
        "--aggregator", "demo-aggregator",
        "--description", "Logistic regression for 5-year RFS, trained across the hospitals",
    )  # fmt: skip
    demo.medval(admin, "training", "approve", "--yes", EXPERIMENT)

    demo.section("Step 3b: each hospital asks to join with the data it prepared")
    for hospital, name in zip(hospitals, data.SITES, strict=True):
        demo.medval(hospital, "training", "join", EXPERIMENT, "--dataset", name, "--yes")
    for name in data.SITES:
        demo.medval(committee, "training", "approve-site", EXPERIMENT, "--dataset", name, "--yes")

    demo.section("Step 3c: the aggregator and four sites train (each ClientApp sandboxed)")
    logs = workdir / "training-logs"
    logs.mkdir(exist_ok=True)
    sites = [
        demo.start(
            hospital,
            logs / f"{name}.log",
            "training",
            "run",
            EXPERIMENT,
            "--dataset",
            name,
            "--yes",
        )
        for hospital, name in zip(hospitals, data.SITES, strict=True)
    ]
    try:
        demo.medval(committee, "aggregator", "start", EXPERIMENT)
        for site in sites:
            site.wait(timeout=120)
    finally:
        for site in sites:
            if site.poll() is None:  # Ctrl-C: the site stops its Flower processes itself.
                site.send_signal(signal.SIGINT)
                site.wait(timeout=60)
    if any(site.returncode != 0 for site in sites):
        demo.fail(f"a site did not finish its training (see {logs})")
    demo.console.print(f"  each site's own log: {logs}")
    demo.medval(committee, "training", "rounds", EXPERIMENT, show=True)

    demo.section("Step 3d: the trained model joins the benchmark; a pooled baseline beside it")
    final_id = str(demo.medval_json(committee, "training", "show", EXPERIMENT)["final_model_id"])
    pooled_folder = workdir / "committee" / "pooled"
    prepared = [write_prepared_site(name, pooled_folder / name) for name in data.SITES]
    central = central_final_model(
        cube_folder, prepared, pooled_folder / "final_model.npz", ROUNDS * LOCAL_EPOCHS
    )
    central_cube = model_cube_from_final_model(
        central, workdir / "cubes" / CENTRAL_MODEL, CENTRAL_MODEL
    )
    central_id = str(demo.medval_json(committee, "model", "register", str(central_cube))["id"])
    for model_id in (final_id, central_id):
        demo.medval(committee, "model", "associate", model_id, "--benchmark", bid, "--yes")
    pending = demo.medval_json(
        admin, "association", "list", "--benchmark", bid, "--status", "pending"
    )
    for association in pending:
        demo.medval(admin, "association", "approve", str(association["id"]), "--yes")


def compare_with_pooled(demo: Demo, committee: Actor, bid: str) -> None:
    """How close federation came: the federated model's pooled AUROC beside the one trained
    on the pooled data, one line each, from the leaderboard as the committee sees it."""
    board = demo.medval_json(committee, "benchmark", "leaderboard", bid)
    for entry in board["entries"]:
        name = entry["model"]
        if name not in (f"{EXPERIMENT}-final", CENTRAL_MODEL):
            continue
        auroc = entry["pooled"]["auroc"]
        how = (
            "trained across the hospitals"
            if name != CENTRAL_MODEL
            else "trained pooled in one place"
        )
        demo.console.print(
            f"  {how}: {name}: AUROC {auroc['value']:.3f} "
            f"[{auroc['lower']:.3f}, {auroc['upper']:.3f}] over {entry['n_sites']} sites",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
