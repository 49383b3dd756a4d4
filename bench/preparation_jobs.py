"""`medval dataset prepare --jobs 2` against `--jobs 1`: a workflow's per-case step, side by side.

    .venv/bin/python bench/preparation_jobs.py [--cases 40] [--seconds 0.3] [--rounds 3] [--jobs 2]

A preparation cube whose workflow is a per-case step (``normalise``: each case's volume of
a few hundred KiB read, a deterministic compute loop of about ``--seconds`` seeded by the
volume, the volume written back normalised) and the final ``prepare`` once. ``--cases``
synthetic cases (seeded bytes, the same every time). The cube is prepared through the
client's executor, what ``medval dataset prepare`` runs once it has the benchmark's cube
(its archive read from the workspace's cache: no server), every task in the real local
sandbox, in a fresh dataset folder each time (nothing resumed), with ``--jobs 1`` (the
baseline) and ``--jobs N``, in ``--rounds`` rounds whose order alternates (1 then N, N then
1, ...): a machine that slows down or speeds up weighs on both. Every run must give the
same dataset hash.

The figures: the per-case step's time (from its first task to the line saying how many
cases finished), and the whole preparation's (the per-case step, ``prepare``,
``sanity_check``, ``statistics`` and the hashing, which run once and alone); each the median
of ``--jobs 1`` over the median of ``--jobs N``. The bar (issue 18): the per-case step at
least 1.7 times faster with 2 jobs on 2 cores. The load average is printed before and
after: other work on the machine takes cores.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import pack_cube
from medval.client.workspace import Workspace
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import BubblewrapRunner, Limits

BAR = 1.7
STEP = "normalise"
ARGS = 'import json, os, shutil, sys\nargs = dict(a[2:].split("=", 1) for a in sys.argv[1:])\n'
# A linear congruential generator: the same number for the same seed, on any machine.
LOOP = "for _ in range(loops):\n    x = (x * 1103515245 + 12345) & 0x7FFFFFFF\n"
NORMALISE = (
    '[case] = os.listdir(args["data_path"])\n'
    'volume = open(os.path.join(args["data_path"], case, "volume.raw"), "rb").read()\n'
    "loops = {loops}\n"
    "x = volume[0] * 256 + volume[1]\n" + LOOP + "low, high = min(volume), max(volume)\n"
    "table = bytes((v - low) * 255 // max(1, high - low) for v in range(256))\n"
    'os.makedirs(os.path.join(args["output_path"], case))\n'
    'with open(os.path.join(args["output_path"], case, "volume.raw"), "wb") as out:\n'
    "    out.write(volume.translate(table) + x.to_bytes(4, 'big'))\n"
)
SCRIPTS = {
    "prepare": (
        'shutil.copytree(args["data_path"], args["output_path"], dirs_exist_ok=True)\n'
        'shutil.copytree(args["labels_path"], args["output_labels_path"], dirs_exist_ok=True)\n'
    ),
    "sanity_check": "pass\n",
    "statistics": (
        'json.dump({"n_cases": len(os.listdir(args["data_path"]))}, '
        'open(os.path.join(args["output_path"], "statistics.json"), "w"))\n'
    ),
}
WORKFLOW = (
    "workflow:\n  steps:\n"
    f"    {STEP}: {{task: {STEP}, runs: per_case}}\n"
    "    prepare: {task: prepare, runs: whole}\n"
)


def loops_for(seconds: float) -> int:
    """How many iterations of the loop take about ``seconds`` here (run at a module's top
    level, as the cube runs it)."""
    count = 2_000_000
    code = compile(LOOP, "<normalise loop>", "exec")
    started = time.perf_counter()
    exec(code, {"loops": count, "x": 1})
    return int(count * seconds / (time.perf_counter() - started))


def write_cube(root: Path, loops: int) -> Path:
    folder = root / "prep"
    folder.mkdir(parents=True)
    scripts = {**SCRIPTS, STEP: NORMALISE.format(loops=loops)}
    tasks = "".join(f"  {task}: {{entrypoint: [python, {task}.py]}}\n" for task in scripts)
    (folder / "medval-cube.yaml").write_text(
        f"name: prep\nkind: data_preparator\ntasks:\n{tasks}{WORKFLOW}"
    )
    for task, body in scripts.items():
        (folder / f"{task}.py").write_text(ARGS + body)
    return folder


def write_cases(root: Path, cases: int) -> tuple[Path, Path]:
    data, labels = root / "data", root / "labels"
    labels.mkdir(parents=True)
    (labels / "labels.csv").write_text("".join(f"case-{i:03d},{i % 2}\n" for i in range(cases)))
    for index in range(cases):
        folder = data / f"case-{index:03d}"
        folder.mkdir(parents=True)
        size = (192 + index * 37 % 256) * 1024
        (folder / "volume.raw").write_bytes(random.Random(index).randbytes(size))
    return data, labels


class StepClock:
    """Progress that keeps when the per-case step's first task started and when the
    workflow said the step finished."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.ended: float | None = None

    def step(self, message: str) -> None:
        if message == f"prep: {STEP}" and self.started is None:
            self.started = time.perf_counter()
        elif message.startswith(f"{STEP}: ") and "cases finished" in message:
            self.ended = time.perf_counter()

    def done(self, message: str, seconds: float) -> None:
        return None

    @property
    def seconds(self) -> float:
        assert self.started is not None and self.ended is not None
        return self.ended - self.started


def timed_prepare(
    root: Path, archive: bytes, archive_hash: str, raw: tuple[Path, Path], jobs: int, turn: int
) -> tuple[float, float, str]:
    """One preparation in a fresh client folder: the per-case step's time, the whole
    preparation's, and the dataset hash."""
    workspace = Workspace(root / f"home-{turn}-{jobs}")
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(archive_hash).write_bytes(archive)
    cube = CubePublic(
        id=1, name="prep", kind=CubeKind.DATA_PREPARATOR, archive_hash=archive_hash, owner_id=1,
        owner="committee", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip
    clock = StepClock()
    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    executor = Executor(client, workspace, BubblewrapRunner(), Limits(), progress=clock)
    started = time.perf_counter()
    data_hash, _ = executor.prepare(
        cube, raw[0], raw[1], workspace.dataset_dir("site"), benchmark_k=10, jobs=jobs
    )
    return clock.seconds, time.perf_counter() - started, data_hash


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args()
    if options.cases < 2 or options.rounds < 1 or options.jobs < 2:
        raise SystemExit("preparation_jobs: --cases and --jobs at least 2, --rounds at least 1")
    before = os.getloadavg()
    loops = loops_for(options.seconds)
    step: dict[int, list[float]] = {1: [], options.jobs: []}
    whole: dict[int, list[float]] = {1: [], options.jobs: []}
    hashes: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        packed = pack_cube(write_cube(root / "cubes", loops))
        raw = write_cases(root / "raw", options.cases)
        for turn in range(options.rounds):
            order = [1, options.jobs] if turn % 2 == 0 else [options.jobs, 1]
            for jobs in order:
                seconds, total, data_hash = timed_prepare(
                    root, packed.archive, packed.sha256, raw, jobs, turn
                )
                step[jobs].append(seconds)
                whole[jobs].append(total)
                hashes.add(data_hash)
    after = os.getloadavg()
    same = len(hashes) == 1
    ratios = {
        what: statistics.median(times[1]) / statistics.median(times[options.jobs])
        for what, times in (("step", step), ("whole", whole))
    }
    met = ratios["step"] >= BAR and same
    print(
        f"{options.cases} cases of 192-447 KiB, a per-case step of about {options.seconds:g} s "
        f"of compute each, {os.cpu_count()} cores, {options.rounds} rounds"
    )
    for jobs in (1, options.jobs):
        print(
            f"--jobs {jobs}: per-case step {', '.join(f'{t:.2f}' for t in step[jobs])} s "
            f"(median {statistics.median(step[jobs]):.2f} s); whole preparation "
            f"{', '.join(f'{t:.2f}' for t in whole[jobs])} s "
            f"(median {statistics.median(whole[jobs]):.2f} s)"
        )
    print(f"same dataset hash in every run: {'yes' if same else 'NO'}")
    print(f"whole preparation speed-up {ratios['whole']:.2f}x (prepare, checks and hash alone)")
    print(
        f"per-case step speed-up {ratios['step']:.2f}x; bar at least {BAR}x with the same "
        f"hash: {'met' if met else 'MISSED'}"
    )
    loads = [" ".join(f"{load:.2f}" for load in found) for found in (before, after)]
    print(f"load average (1, 5, 15 min): before {loads[0]}, after {loads[1]}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
