"""`medval run --jobs 2` against `--jobs 1`: CPU-bound models on one dataset, side by side.

    .venv/bin/python bench/parallel_models.py [--models 4] [--seconds 1.5] [--rounds 3] [--jobs 2]

Sets up a federation on loopback (a medval server with SQLite in a temporary folder; one
account, an admin, holds every role; the set-up commands run in this process): a
benchmark whose evaluator reports each model's score, and ``--models`` model cubes (the
reference model among them) whose ``infer`` runs a deterministic compute loop of about
``--seconds`` on the hospital's data (calibrated here first; a few iterations on the demo
data), each from a seed of its own. Then it times ``medval run --force --yes``, as whole
processes as a data owner would type them, with ``--jobs 1`` (the baseline) and with
``--jobs N``, in ``--rounds`` rounds whose order alternates (1 then N, N then 1, ...):
a machine that slows down or speeds up weighs on both. After every run it reads the
local results back and checks that they are the same as the first run's (status,
document, provenance of each execution; not when they ran).

The figure: the median time of ``--jobs 1`` over the median time of ``--jobs N``. The bar
(issue 14): at least 1.7 times faster with 2 workers on 2 cores, with the same results.
The load average is printed before and after: other work on the machine takes cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from medval.cli.main import main as medval
from medval.client.workspace import Workspace
from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings

BAR = 1.7
PASSWORD = "bench-password-1"
ARGS = 'import json, os, shutil, sys\nargs = dict(a[2:].split("=", 1) for a in sys.argv[1:])\n'
PREP = {
    "prepare": (
        'shutil.copytree(args["data_path"], args["output_path"], dirs_exist_ok=True)\n'
        'shutil.copytree(args["labels_path"], args["output_labels_path"], dirs_exist_ok=True)\n'
    ),
    "sanity_check": "pass\n",
    "statistics": (
        'json.dump({"n_cases": 100}, '
        'open(os.path.join(args["output_path"], "statistics.json"), "w"))\n'
    ),
}
# A linear congruential generator: the same number for the same seed, on any machine.
LOOP = "for _ in range(loops):\n    x = (x * 1103515245 + 12345) & 0x7FFFFFFF\n"
MODEL = (
    'site = open(os.path.join(args["data_path"], "mode.txt")).read() == "site"\n'
    "loops = {loops} if site else 1000\n"
    "x = {seed}\n"
    + LOOP
    + "score = 0.6 + x % 300 / 10000\n"
    + 'open(os.path.join(args["output_path"], "score.txt"), "w").write(str(score))\n'
)
EVALUATE = """
score = float(open(os.path.join(args["predictions"], "score.txt")).read())
json.dump({"n_cases": 100, "n_positive": 50, "metrics": {"score": {"value": score}}},
          open(os.path.join(args["output_path"], "results.json"), "w"))
"""


def loops_for(seconds: float) -> int:
    """How many iterations of the model's loop take about ``seconds`` here (run as the
    cube runs it: at a module's top level)."""
    count = 2_000_000
    code = compile(LOOP, "<model loop>", "exec")
    started = time.perf_counter()
    exec(code, {"loops": count, "x": 1})
    return int(count * seconds / (time.perf_counter() - started))


def write_cube(root: Path, name: str, kind: str, scripts: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    tasks = "".join(f"  {task}: {{entrypoint: [python, {task}.py]}}\n" for task in scripts)
    (folder / "medval-cube.yaml").write_text(f"name: {name}\nkind: {kind}\ntasks:\n{tasks}")
    for task, body in scripts.items():
        (folder / f"{task}.py").write_text(ARGS + body)
    return folder


def write_site(root: Path, mode: str) -> Path:
    for part in ("data", "labels"):
        (root / part).mkdir(parents=True)
    (root / "data" / "mode.txt").write_text(mode)
    (root / "labels" / "labels.csv").write_text("id,y\n1,0\n")
    return root


def command(home: Path, *args: str) -> Any:
    """One set-up command as the account whose client folder is ``home``, in this process;
    its JSON answer when it gives one."""
    os.environ["MEDVAL_HOME"] = str(home)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = medval(list(args))
    if code != 0:
        raise SystemExit(f"parallel_models: medval {' '.join(args[:3])} failed:\n{err.getvalue()}")
    return json.loads(out.getvalue()) if "--format" in args else None


def set_up(root: Path, models: int, loops: int) -> Path:
    """The benchmark (the admin is its owner), ``models`` models on it (a vendor's, after
    the reference) and a hospital's dataset, all approved; the hospital's client folder."""
    owner, vendor, hospital = (root / "homes" / name for name in ("owner", "vendor", "hospital"))
    command(owner, "login", "--username", "owner")
    for home in (vendor, hospital):
        command(owner, "users", "create", home.name)
        command(home, "login", "--username", home.name)
    cubes = root / "cubes"
    model = [
        write_cube(cubes, f"model-{i}", "model", {"infer": MODEL.format(seed=i, loops=loops)})
        for i in range(1, models + 1)
    ]
    prep = write_cube(cubes, "prep", "data_preparator", PREP)
    evaluator = write_cube(cubes, "evaluator", "evaluator", {"evaluate": EVALUATE})
    prep_id, reference_id, evaluator_id = (
        command(owner, "cube", "register", str(cube), "--format", "json")["id"]
        for cube in (prep, model[0], evaluator)
    )
    benchmark = command(
        owner, "benchmark", "register", "--name", "side-by-side",
        "--data-preparator", str(prep_id), "--reference-model", str(reference_id),
        "--evaluator", str(evaluator_id), "--demo-data", str(write_site(root / "demo", "demo")),
        "--release-policy", "participants", "--format", "json",
    )["id"]  # fmt: skip
    command(owner, "benchmark", "approve", "--yes", str(benchmark))
    for cube in model[1:]:
        model_id = command(vendor, "cube", "register", str(cube), "--format", "json")["id"]
        command(vendor, "model", "associate", str(model_id), "--benchmark", str(benchmark), "--yes")
    site = write_site(root / "site", "site")
    command(
        hospital, "dataset", "prepare", "--benchmark", str(benchmark), "--name", "site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    command(hospital, "dataset", "register", "site", "--yes")
    command(hospital, "dataset", "associate", "site", "--yes")
    pending = command(owner, "association", "list", "--status", "pending", "--format", "json")
    for association in pending:
        command(owner, "association", "approve", str(association["id"]), "--yes")
    return hospital


def timed_run(home: Path, jobs: int, infers: list[float]) -> float:
    """``medval run --force --yes --jobs N`` as a whole process, as the account whose
    client folder is ``home``; its wall time. Adds to ``infers`` how long each model's
    ``infer`` took, as the run said it."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "medval", "run", "--force", "--yes", "--jobs", str(jobs)],
        env={**os.environ, "MEDVAL_HOME": str(home)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"parallel_models: medval run --jobs {jobs} failed:\n{done.stderr}")
    infers += [
        float(s)
        for s in re.findall(r"✓ (?:\[\S+\] )?model-\d+: infer \(([0-9.]+) s\)", done.stderr)
    ]
    return seconds


def results(home: Path) -> dict[str, Any]:
    """Each local result as it would be uploaded, without when it ran."""
    return {
        r.key: r.model_dump(mode="json", exclude={"executed_at", "uploaded_at", "server_id"})
        for r in Workspace(home).results()
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args()
    if options.models < 2 or options.rounds < 1 or options.jobs < 2:
        raise SystemExit("parallel_models: --models and --jobs at least 2, --rounds at least 1")
    before = os.getloadavg()
    loops = loops_for(options.seconds)
    times: dict[int, list[float]] = {1: [], options.jobs: []}
    infers: dict[int, list[float]] = {1: [], options.jobs: []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = ServerSettings(
            data_dir=root / "server", port=0, password_hash_profile="test_only_cheapest"
        )
        with BackgroundServer(settings) as server:
            create_admin(settings, "owner", PASSWORD)
            os.environ.update(MEDVAL_SERVER=server.url, MEDVAL_PASSWORD=PASSWORD)
            home = set_up(root, options.models, loops)  # the timed runs' MEDVAL_HOME
            first: dict[str, Any] | None = None
            same = True
            for turn in range(options.rounds):
                order = [1, options.jobs] if turn % 2 == 0 else [options.jobs, 1]
                for jobs in order:
                    times[jobs].append(timed_run(home, jobs, infers[jobs]))
                    found = results(home)
                    first = first or found
                    same = same and found == first and len(found) == options.models
    after = os.getloadavg()
    one, many = statistics.median(times[1]), statistics.median(times[options.jobs])
    speedup = one / many
    met = speedup >= BAR and same
    print(
        f"{options.models} models of about {options.seconds:g} s of compute on one dataset, "
        f"{os.cpu_count()} cores, {options.rounds} rounds; each infer took "
        f"{statistics.median(infers[1]):.2f} s one at a time, "
        f"{statistics.median(infers[options.jobs]):.2f} s side by side (medians)"
    )
    print(f"--jobs 1: {', '.join(f'{t:.2f}' for t in times[1])} s (median {one:.2f} s)")
    print(
        f"--jobs {options.jobs}: {', '.join(f'{t:.2f}' for t in times[options.jobs])} s "
        f"(median {many:.2f} s)"
    )
    print(f"same results in every run: {'yes' if same else 'NO'}")
    print(
        f"speed-up {speedup:.2f}x; bar at least {BAR}x with the same results: "
        f"{'met' if met else 'MISSED'}"
    )
    loads = [" ".join(f"{load:.2f}" for load in found) for found in (before, after)]
    print(f"load average (1, 5, 15 min): before {loads[0]}, after {loads[1]}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
