"""A whole federation on this machine: ``medval simulate --sites N`` as a whole process.

    .venv/bin/python bench/federation_simulation.py [--sites 1000] [--baseline-sites 10]

Runs ``medval simulate --sites B --format json`` (the baseline), then ``--sites N``, each
as its own process timed from start to exit, in the same run. The baseline scaled to N
sites is its setup plus N times its seconds per site (the sites part only): what N sites
would cost if nothing grew with the federation. The figure is the wall time of N sites
against the bar (issue 14: under 10 minutes), with the throughput the command reports,
and its ratio to the scaled baseline (above 1: something grows with N). Any extra
arguments after ``--`` go to both commands (``--jobs 4``, ``--runner docker``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BAR_SECONDS = 600.0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def simulate(sites: int, extra: list[str]) -> tuple[float, dict[str, Any]]:
    """The whole command's wall time and its JSON report."""
    argv = [sys.executable, "-m", "medval", "simulate", "--sites", str(sites), "--format", "json"]
    start = time.perf_counter()
    done = subprocess.run([*argv, *extra], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"'{' '.join(argv)}' exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, json.loads(done.stdout)


def describe(label: str, wall: float, report: dict[str, Any]) -> None:
    phases = ", ".join(f"{k} {v['mean_seconds']:.3f}" for k, v in report["phases"].items())
    print(
        f"{label}: {report['sites']} sites in {wall:.1f} s (setup {report['setup_seconds']:.1f} s, "
        f"sites {report['sites_seconds']:.1f} s, {report['jobs']} at once); "
        f"{report['sites_per_second']:.2f} sites/s, {report['uploads_per_second']:.2f} uploads/s, "
        f"{report['requests_per_second']:.1f} requests/s; mean s per site: {phases}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--baseline-sites", type=int, default=10)
    parser.add_argument("extra", nargs="*", help="after --: passed to medval simulate")
    args = parser.parse_args()
    print(f"load average before: {loadavg()}")
    base_wall, base = simulate(args.baseline_sites, args.extra)
    describe("baseline", base_wall, base)
    wall, report = simulate(args.sites, args.extra)
    describe("measured", wall, report)
    per_site = base["sites_seconds"] / base["sites"]
    scaled = (base_wall - base["sites_seconds"]) + per_site * args.sites
    print(f"load average after: {loadavg()}")
    print(
        f"baseline scaled to {args.sites} sites: {scaled:.1f} s; measured over scaled: "
        f"{wall / scaled:.2f}x"
    )
    verdict = "met" if wall < BAR_SECONDS else f"MISSED by {wall - BAR_SECONDS:.0f} s"
    print(
        f"{args.sites} sites: {wall:.1f} s against the bar of {BAR_SECONDS:.0f} s: {verdict}; "
        f"leaderboard complete: {report['complete']}"
    )


if __name__ == "__main__":
    main()
