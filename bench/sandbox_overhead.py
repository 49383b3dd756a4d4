"""What a sandbox costs per cube task, against the same script run bare, in the same run.

    .venv/bin/python bench/sandbox_overhead.py [--runs 20] [--runners local,docker,podman]

Each run starts the task in the sandbox and bare, one right after the other, in an order
that alternates from run to run: a machine that slows down or speeds up during the
measurement (these 2-core machines are noisy) weighs on both alike. Bare is the same
interpreter running the same script with the same arguments and the same environment
variables as the task gets (medval's fixed ones: one thread per maths library, ...):
with the bench's own environment instead, importing numpy starts a thread per core,
which made the bare run of the pandas task about 90 ms slower than the same work in the
sandbox, in the sandbox's favour. The figure is the
median of the paired differences (sandboxed minus bare), with the ratio of the medians,
for a trivial task and one that imports pandas and scikit-learn (as the demo's cubes do).
The bars (issue 14): the local runner under 15 ms more than bare; Docker and Podman under
0.4 s more. A container runner whose engine is not ready here is named and left out.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import MedvalError
from medval.core.task_environment import task_environment
from medval.runner.interface import Limits, Runner
from medval.runner.registry import runner_for

SCRIPTS = {
    "trivial": "import sys\nopen(sys.argv[2].split('=')[1] + '/out.txt', 'w').write('ok')\n",
    "pandas+sklearn": (
        "import sys, pandas, sklearn.linear_model\n"
        "open(sys.argv[2].split('=')[1] + '/out.txt', 'w').write('ok')\n"
    ),
}
BARS = {"local": 0.015, "docker": 0.4, "podman": 0.4}  # seconds more than bare, median


def make_cube(root: Path, body: str) -> Path:
    cube = root / "cube"
    cube.mkdir()
    (cube / SPEC_FILE).write_text(
        "name: bench\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    (cube / "infer.py").write_text(body)
    return cube


def clock(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paired(
    sandboxed: Callable[[], object], bare: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Both, one right after the other, the order alternating from run to run."""
    inside: list[float] = []
    outside: list[float] = []
    for run in range(runs):
        if run % 2 == 0:
            inside.append(clock(sandboxed))
            outside.append(clock(bare))
        else:
            outside.append(clock(bare))
            inside.append(clock(sandboxed))
    return inside, outside


def measure(kind: str, runner: Runner, label: str, body: str, runs: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cube = make_cube(root, body)
        spec = load_cube_spec(cube)
        data, out = root / "data", root / "out"
        data.mkdir()
        mounts = {"data_path": data, "output_path": out}
        command = [sys.executable, "infer.py", f"--data_path={data}", f"--output_path={out}"]
        limits = Limits(timeout_seconds=120)
        # What a task without an image sees, its PATH led by this interpreter's folder.
        environment = task_environment((), None, f"{Path(sys.executable).parent}:/usr/bin:/bin")
        # One untimed run each first: an image to load, a page cache to fill.
        runner.run(cube, spec, "infer", mounts, limits)
        subprocess.run(command, cwd=cube, check=True, env=environment)
        inside, outside = paired(
            lambda: runner.run(cube, spec, "infer", mounts, limits),
            lambda: subprocess.run(command, cwd=cube, check=True, env=environment),
            runs,
        )
    differences = [a - b for a, b in zip(inside, outside, strict=True)]
    extra = statistics.median(differences)
    # The middle half of the paired differences: how far one run's noise reaches.
    low, _, high = statistics.quantiles(differences, n=4)
    ratio = statistics.median(inside) / statistics.median(outside)
    met = extra < BARS[kind]
    print(
        f"{kind:7} {label:15} sandboxed {statistics.median(inside):.3f} s, "
        f"bare {statistics.median(outside):.3f} s (medians of {runs}); "
        f"{extra * 1000:+.1f} ms per task (middle half {low * 1000:+.1f} to "
        f"{high * 1000:+.1f}), {ratio:.2f}x bare; "
        f"bar under {BARS[kind] * 1000:.0f} ms more: {'met' if met else 'MISSED'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--runners", default="local")
    options = parser.parse_args()
    missed = 0
    for kind in options.runners.split(","):
        runner = runner_for(kind)
        try:
            runner.check_ready()
        except MedvalError as exc:
            print(f"{kind:7} left out: {exc.message}")
            continue
        for label, body in SCRIPTS.items():
            missed += not measure(kind, runner, label, body, options.runs)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
