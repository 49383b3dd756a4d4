"""How long ``medval`` takes to start, as whole processes, against ``python -c pass``.

    .venv/bin/python bench/cli_startup.py [--runs 20]

Each run starts the baseline and each command one right after the other, the order
rotating from run to run, so that a noisy machine weighs on all alike. Figures: the
median of the paired differences (command minus baseline) and the ratio of the medians.
The bar (issue 14): under 0.15 s more than the baseline, median. ``results list
--local`` reads an empty client folder made for the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR_SECONDS = 0.15
MEDVAL = str(Path(sys.executable).with_name("medval"))
COMMANDS = {
    "medval --help": [MEDVAL, "--help"],
    "medval --version": [MEDVAL, "--version"],
    "medval results list --local": [MEDVAL, "results", "list", "--local"],
}
BASELINE = [sys.executable, "-c", "pass"]


def clock(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    names = ["baseline", *COMMANDS]
    argvs = {"baseline": BASELINE, **COMMANDS}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "MEDVAL_HOME": home}
        for name in names:  # once each, untimed: the page cache
            clock(argvs[name], env)
        for run in range(runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                seconds[name].append(clock(argvs[name], env))
    base = seconds["baseline"]
    print(f"baseline python -c pass: median {statistics.median(base) * 1000:.0f} ms ({runs} runs)")
    missed = 0
    for name in COMMANDS:
        extra = statistics.median(a - b for a, b in zip(seconds[name], base, strict=True))
        ratio = statistics.median(seconds[name]) / statistics.median(base)
        met = extra < BAR_SECONDS
        missed += not met
        print(
            f"{name:28} +{extra * 1000:.0f} ms, {ratio:.1f}x the baseline; "
            f"bar under {BAR_SECONDS * 1000:.0f} ms more: {'met' if met else 'MISSED'}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
