"""Reads the time report a whole demo prints at its end and checks it adds up: platform =
workflow - cube tasks, its share computed from them, the verdict from the share, and the
cube tasks' time the sum of the task times the clients kept (``client.task_times``)."""

from __future__ import annotations

import re
from pathlib import Path

from medval.client.task_times import read_task_times

WORKFLOW = re.compile(r"^  workflow wall time: (?P<wall>[0-9.]+) s, (?P<n>\d+) commands ")
CUBES = re.compile(r"^  cube tasks' own time: (?P<cubes>[0-9.]+) s in (?P<tasks>\d+) sandboxed ")
PLATFORM = re.compile(
    r"^  platform time: (?P<platform>[0-9.]+) s \(workflow - cube tasks\), "
    r"(?P<share>[0-9.]+)% of the workflow; bar under 10%: (?P<verdict>met|MISSED)"
)
DONE = re.compile(r"Done: (?P<n>\d+) commands in ")


def check_time_report(log: str, workdir: Path) -> dict[str, float]:
    """The report's figures, once they are checked against each other and the records."""
    lines = log.splitlines()

    def one(pattern: re.Pattern[str]) -> re.Match[str]:
        found = [m for m in map(pattern.search, lines) if m]
        assert len(found) == 1, (pattern.pattern, log[-3000:])
        return found[0]

    workflow, cubes, platform = one(WORKFLOW), one(CUBES), one(PLATFORM)
    wall, cube_s = float(workflow["wall"]), float(cubes["cubes"])
    platform_s, share = float(platform["platform"]), float(platform["share"])
    # Each figure is printed to 0.1: the sums hold within their rounding.
    assert abs(platform_s - (wall - cube_s)) <= 0.15 + 1e-9
    assert abs(share - 100 * platform_s / wall) <= 0.1 + 100 * 0.1 / wall
    assert platform["verdict"] == ("met" if share < 10 else "MISSED")
    assert int(workflow["n"]) == int(one(DONE)["n"])
    kept = sorted((workdir / "clients").glob("*/logs/*.json"))
    assert int(cubes["tasks"]) == len(kept) > 0
    assert abs(cube_s - sum(t.seconds for t in read_task_times(kept))) <= 0.05 + 1e-9
    # One task time per task the demo showed finishing.
    assert len(kept) == sum(1 for line in lines if line.lstrip().startswith("✓"))
    return {"wall": wall, "cubes": cube_s, "platform": platform_s, "share": share}
