"""The test modules in order of their measured time, longest first, so that pytest-xdist's
workers (``make unit``'s main and Flower lanes, ``--dist loadfile --no-loadscope-reorder``)
take the long ones first and the short ones fill in at the end; otherwise xdist hands out the
modules with the most tests first, and a long module of one test (the imaging demo) ran
last with the other worker idle.

The times are a module's seconds in a clean-clone ``make unit`` (setup, call and teardown
of its tests, in whichever lane ran it), kept in ``tests/module_seconds.json``; a module
not in it counts as 0 s and keeps its place after the measured ones. To measure again,
add ``--junitxml=LANE.xml`` to each lane's pytest in the Makefile, run ``make unit``, then::

    python -m tests.module_order main.xml serial.xml flower.xml > tests/module_seconds.json
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

SECONDS = Path(__file__).with_name("module_seconds.json")


@cache
def _seconds() -> dict[str, float]:
    kept: dict[str, float] = json.loads(SECONDS.read_text())
    return kept


def longest_modules_first(items: list[pytest.Item]) -> None:
    """Sort ``items`` in place: whole modules, longest first, each module's tests in their
    own order (the sort is stable)."""
    seconds = _seconds()
    items.sort(key=lambda item: -seconds.get(item.nodeid.split("::", 1)[0], 0.0))


def _module_of(case: ElementTree.Element) -> str:
    # junit's classname: tests.server.test_x, or tests.server.test_x.SomeClass
    parts = (case.get("classname") or "").split(".")
    until = next((i for i, part in enumerate(parts) if part.startswith("test_")), len(parts) - 1)
    return "/".join(parts[: until + 1]) + ".py"


def seconds_from_junit(paths: list[str]) -> dict[str, float]:
    seconds: Counter[str] = Counter()
    for path in paths:
        for case in ElementTree.parse(path).iter("testcase"):
            seconds[_module_of(case)] += float(case.get("time") or 0.0)
    return {module: round(total, 1) for module, total in seconds.most_common()}


if __name__ == "__main__":
    print(json.dumps(seconds_from_junit(sys.argv[1:]), indent=1))
