"""``medval demo --imaging``: the imaging benchmark (brain masks on real T1 MR scans),
every role played through the real CLI against an embedded server, as ``medval demo``
plays the tabular one (:mod:`medval.demo.play`).

The data comes from packages on this machine (:mod:`medval.demo.imaging_data`); the cubes
build their own Python environments from the wheels ``make imaging-wheels`` fetched
(:mod:`medval.demo.imaging_cubes`). One hospital per scan; the committee's reference model
(threshold and morphology) and a vendor's learned model (a tiny 2D U-Net on PyTorch) run
at each, side by side on the leaderboard; only means over each site's cases leave.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from medval.client.workspace import result_key
from medval.core.errors import InvalidInput
from medval.demo.actors import DEMO_PASSWORD, Actor, Demo, DemoFailed, section_rule
from medval.demo.embedded_server import embedded_server, server_env
from medval.demo.play import _approve_pending, login_again, page_address, report_folder
from medval.demo.workdir import check_workdir, claim_workdir
from medval.runner.registry import runner_for

BENCHMARK = "brain-mask-t1"


def _imaging_modules() -> None:
    """nibabel and pydicom (the data builder's) are medval[imaging]: one line if missing."""
    try:
        import nibabel  # noqa: F401
        import pydicom  # noqa: F401
    except ImportError:
        raise InvalidInput(
            "medval demo --imaging needs nibabel and pydicom: pip install 'medval[imaging]'"
        ) from None


def run_imaging_demo(
    workdir: Path,
    console: Console,
    wheels: Path,
    runner: str = "local",
    sites: dict[str, Path] | None = None,
) -> str:
    """Play the imaging benchmark in ``workdir``; the benchmark's id. ``sites``: already
    written site folders (name -> folder with ``data/`` and ``labels/``) instead of the
    full-size ones (the tests' small sites)."""
    check_workdir(workdir)
    runner_for(runner).check_ready()
    _imaging_modules()
    from medval.demo import imaging_cubes, imaging_data  # nibabel, pydicom: only now

    claim_workdir(workdir)
    demo = Demo(workdir, console, runner)
    console.print(f"  cube tasks run on the {runner!r} runner")
    demo.section("Setting up: real scans from Debian's mricron-data and nilearn's wheel, cubes")
    if sites is None:
        written = {
            name: imaging_data.write_site(name, workdir / "hospitals" / name, wheels)
            for name in imaging_data.SITES
        }
        sites = {name: files.data_path.parent for name, files in written.items()}
    for name in sites:
        console.print(f"  hospital export written: {name}: {imaging_data.SITES.get(name, name)}")
    demo_data = workdir / "committee" / "demo-data"
    imaging_data.write_demo_data(demo_data)
    cubes = imaging_cubes.build_all_cubes(workdir / "cubes", wheels)
    declarations = imaging_cubes.copy_declarations(workdir / "committee")
    console.print(f"  cubes built in {workdir / 'cubes'}: {', '.join(cubes)}")
    # Every person here uses one machine: the cubes' Python environments (PyTorch's is
    # 1 GB) are built once for it, in one folder their clients share, as a hospital's
    # workspaces on one machine would (MEDVAL_ENVIRONMENTS; yours if you set it).
    demo.shared_environments = workdir / "environments"
    shown = os.environ.get("MEDVAL_ENVIRONMENTS") or demo.shared_environments
    console.print(f"  cubes' Python environments built once for this machine, in {shown}")

    server_dir = workdir / "server"
    admin = demo.actor("admin", "platform admin")
    demo.clock.start_workflow()
    created = subprocess.run(
        [sys.executable, "-m", "medval", "server", "create-admin", "--username", admin.username],
        env={**server_env(server_dir, 0), "MEDVAL_ADMIN_PASSWORD": DEMO_PASSWORD},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if created.returncode != 0:
        raise DemoFailed(f"could not create the admin account: {created.stderr.strip()}")
    with embedded_server(server_dir, workdir / "server.log") as url:
        demo.server_url = url
        console.print(f"  embedded server on {url} (SQLite in {server_dir})")
        benchmark_id = _play(demo, admin, cubes, demo_data, declarations, sites)
    elapsed = time.monotonic() - demo.clock.started
    section_rule(demo.console, f"[bold green]Done: the imaging benchmark in {elapsed:.0f} s")
    clients = workdir / "clients"
    console.print(
        f"  evidence report: {report_folder(demo) / 'report.html'}\n"
        f"  serve it again: MEDVAL_SERVER_DATA_DIR={server_dir} medval server start\n"
        f"  each person's client folder is {clients}/<name>; log it in again there first "
        f"(password: {DEMO_PASSWORD}):\n"
        f"    {login_again(clients / 'committee')}"
    )
    return benchmark_id


def _play(
    demo: Demo,
    admin: Actor,
    cubes: dict[str, Path],
    demo_data: Path,
    declarations: Path,
    sites: dict[str, Path],
) -> str:
    from medval.demo.imaging_cubes import EVALUATOR, LEARNED_MODEL, PREPARATOR, THRESHOLD_MODEL

    committee = demo.actor("committee", "benchmark owner")
    hospitals = {name: demo.actor(f"hospital-{name}", "data owner") for name in sites}
    vendor = demo.actor("vendor-unet", "model owner")

    demo.section("Accounts: the admin creates one account per person")
    demo.medval(admin, "login", "--username", admin.username)
    for person in [committee, *hospitals.values(), vendor]:
        demo.medval(admin, "users", "create", person.username)
        demo.medval(person, "login", "--username", person.username)

    demo.section("Step 1: the committee registers its cubes and the benchmark")
    ids = {
        name: str(demo.medval_json(committee, "cube", "register", str(cubes[name]))["id"])
        for name in (PREPARATOR, THRESHOLD_MODEL, EVALUATOR)
    }
    benchmark = demo.medval_json(
        committee,
        "benchmark",
        "register",
        "--name",
        BENCHMARK,
        "--description",
        "Brain extraction on T1 MR: Dice, 95% Hausdorff distance (mm), surface Dice",
        "--docs-url",
        "https://example.org/medval/brain-mask-t1",
        "--data-preparator",
        ids[PREPARATOR],
        "--reference-model",
        ids[THRESHOLD_MODEL],
        "--evaluator",
        ids[EVALUATOR],
        "--demo-data",
        str(demo_data),
        "--declarations",
        str(declarations),
        "--release-policy",
        "participants",
    )
    bid = str(benchmark["id"])
    demo.medval(admin, "benchmark", "approve", "--yes", bid)

    demo.section("Step 2: each hospital prepares its scans locally and registers hashes only")
    for name, hospital in hospitals.items():
        folder = sites[name]
        demo.medval(
            hospital,
            "dataset",
            "prepare",
            "--benchmark",
            bid,
            "--name",
            name,
            "--data-path",
            str(folder / "data"),
            "--labels-path",
            str(folder / "labels"),
            "--location",
            name,
        )
        demo.medval(hospital, "dataset", "register", name, "--yes")
        demo.medval(hospital, "dataset", "associate", name, "--yes")
    _approve_pending(demo, committee, bid)

    demo.section("Step 3: a vendor registers its learned model (a 2D U-Net) and asks to join")
    model_id = demo.medval_json(vendor, "model", "register", str(cubes[LEARNED_MODEL]))["id"]
    demo.medval(vendor, "model", "associate", str(model_id), "--benchmark", bid, "--yes")
    _approve_pending(demo, committee, bid)

    demo.section("Step 4: each hospital runs both models and uploads approved metrics")
    for hospital in hospitals.values():
        demo.medval(hospital, "run", "--benchmark", bid, "--yes")
        for result in demo.medval_json(hospital, "results", "list", "--local"):
            key = result_key(result["benchmark_id"], result["model_id"], result["dataset_id"])
            demo.medval(hospital, "results", "upload", key, "--yes")

    demo.section("Step 5: the leaderboard, as the committee sees it")
    demo.medval(committee, "benchmark", "leaderboard", bid, show=True)
    demo.console.print(
        f"  the same in a browser, while this server runs: {page_address(demo, bid)}"
    )
    demo.section("Step 6: the committee's evidence report")
    demo.medval(committee, "report", bid, "-o", str(report_folder(demo)))
    return bid
