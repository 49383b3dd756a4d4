"""tests/lane_summary.py: the closing lines of ``make test`` name every failure of every lane."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lane_summary import lane_lines, main

FAILED_LANE = """\
tests/e2e/test_faults.py ..F.                                [100%]
=========================== short test summary info ============================
FAILED tests/e2e/test_faults.py::test_a_fault_fires - AssertionError: not fired
ERROR tests/server/test_api.py::test_world - TimeoutError
============ 1 failed, 3 passed, 1 error, 2 warnings in 12.50s (0:00:12) ============
"""


def test_a_lane_that_failed_is_named_with_each_failure(tmp_path: Path) -> None:
    log = tmp_path / "main.log"
    log.write_text(FAILED_LANE)
    assert lane_lines(log) == [
        f"{log}: 1 failed, 3 passed, 1 error, 2 warnings in 12.50s (0:00:12)",
        "  FAILED tests/e2e/test_faults.py::test_a_fault_fires - AssertionError: not fired",
        "  ERROR tests/server/test_api.py::test_world - TimeoutError",
    ]


def test_a_lane_that_passed_is_its_closing_line(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_text("tests/a.py ..   [100%]\n===== 2 passed in 0.10s =====\n")
    assert lane_lines(log) == [f"{log}: 2 passed in 0.10s"]


def test_a_lane_cut_short_or_missing_says_so(tmp_path: Path) -> None:
    cut = tmp_path / "flower.log"
    cut.write_text("tests/a.py ..\nTimeout\n")
    assert lane_lines(cut) == [f"{cut}: no closing line; its last line: Timeout"]
    missing = tmp_path / "debian.log"
    assert lane_lines(missing) == [f"{missing}: no report (the lane did not run)"]


def test_the_end_prints_the_other_lanes_and_fails_if_any_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_log, serial = tmp_path / "main.log", tmp_path / "serial.log"
    main_log.write_text("===== 2 passed in 0.10s =====\n")
    serial.write_text(FAILED_LANE)
    (tmp_path / "serial.log.failed").touch()
    assert main([main_log, serial]) == 1
    shown = capsys.readouterr().out
    assert shown.count("2 passed in 0.10s") == 1  # the main lane's was shown as it ran
    assert shown.startswith(f"== {serial}\n{FAILED_LANE}== how each lane ended\n")
    assert shown.endswith(
        f"{serial} [FAILED]: 1 failed, 3 passed, 1 error, 2 warnings in 12.50s (0:00:12)\n"
        "  FAILED tests/e2e/test_faults.py::test_a_fault_fires - AssertionError: not fired\n"
        "  ERROR tests/server/test_api.py::test_world - TimeoutError\n"
    )
    assert not (tmp_path / "serial.log.failed").exists()  # the next run starts afresh
    assert main([main_log, serial]) == 0
