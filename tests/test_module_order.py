"""make unit's main lane hands out modules longest first (tests/module_order.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.module_order import SECONDS, _seconds, longest_modules_first, seconds_from_junit


def test_modules_go_longest_first_whole_and_each_in_its_own_order() -> None:
    slow, fast = sorted(_seconds(), key=_seconds().get, reverse=True)[:2]
    nodeids = [f"{fast}::a", f"{fast}::b", "tests/unmeasured.py::c", f"{slow}::d", f"{slow}::e"]
    items: list[Any] = [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]
    longest_modules_first(items)
    assert [item.nodeid for item in items] == [
        f"{slow}::d", f"{slow}::e", f"{fast}::a", f"{fast}::b", "tests/unmeasured.py::c",
    ]  # fmt: skip


def test_a_modules_seconds_are_summed_from_junit_reports(tmp_path: Path) -> None:
    report = tmp_path / "main.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.server.test_x" name="a" time="1.25"/>'
        '<testcase classname="tests.server.test_x.TestThing" name="b" time="2.0"/>'
        '<testcase classname="tests.e2e.test_y" name="c" time="9.5"/>'
        "</testsuite></testsuites>"
    )
    assert seconds_from_junit([str(report)]) == {
        "tests/e2e/test_y.py": 9.5,
        "tests/server/test_x.py": 3.2,
    }


def test_every_measured_module_still_exists() -> None:
    root = SECONDS.parent.parent
    assert [module for module in _seconds() if not (root / module).is_file()] == []
