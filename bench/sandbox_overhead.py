"""What the bubblewrap sandbox costs per cube task, against the same script unsandboxed.

    .venv/bin/python bench/sandbox_overhead.py [--runs 10]

Prints the median and the spread of wall-clock seconds for: a trivial task, and a task
that imports pandas and scikit-learn (as the demo's cubes do).
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
from medval.runner.interface import Limits
from medval.runner.registry import runner_for

SCRIPTS = {
    "trivial": "import sys\nopen(sys.argv[2].split('=')[1] + '/out.txt', 'w').write('ok')\n",
    "pandas+sklearn": (
        "import sys, pandas, sklearn.linear_model\n"
        "open(sys.argv[2].split('=')[1] + '/out.txt', 'w').write('ok')\n"
    ),
}


def make_cube(root: Path, body: str) -> Path:
    cube = root / "cube"
    cube.mkdir()
    (cube / SPEC_FILE).write_text(
        "name: bench\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    (cube / "infer.py").write_text(body)
    return cube


def timed(action: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def describe(seconds: list[float]) -> str:
    median = statistics.median(seconds)
    return f"median {median:.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f})"


def measure(label: str, body: str, runs: int) -> None:
    runner = runner_for("local")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cube = make_cube(root, body)
        spec = load_cube_spec(cube)
        data, out = root / "data", root / "out"
        data.mkdir()
        mounts = {"data_path": data, "output_path": out}
        command = [sys.executable, "infer.py", f"--data_path={data}", f"--output_path={out}"]
        inside = timed(
            lambda: runner.run(cube, spec, "infer", mounts, Limits(timeout_seconds=120)), runs
        )
        outside = timed(lambda: subprocess.run(command, cwd=cube, check=True), runs)
    overhead = statistics.median(inside) - statistics.median(outside)
    print(f"{label:15} sandboxed   {describe(inside)}")
    print(f"{label:15} unsandboxed {describe(outside)}")
    print(f"{label:15} overhead    {overhead:+.3f} s per task ({runs} runs each)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for label, body in SCRIPTS.items():
        measure(label, body, runs)


if __name__ == "__main__":
    main()
