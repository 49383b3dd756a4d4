"""The demo's account of its time (``demo.timing``): platform = workflow wall - cube tasks,
its share of the workflow, and where it went by command."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.client.task_times import TaskTime, record_task_time
from medval.demo.timing import Clock, CommandTime, TimeReport, verb


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("login", "--username", "admin"), "login"),
        (("dataset", "prepare", "--benchmark", "1"), "dataset prepare"),
        (("results", "upload", "b1-m2-d3", "--yes"), "results upload"),
        (("report", "1", "-o", "/tmp/r"), "report"),
        (("run", "--benchmark", "1", "--yes"), "run"),
    ],
)
def test_a_command_is_named_by_its_words_not_its_values(
    args: tuple[str, ...], expected: str
) -> None:
    assert verb(args) == expected


def test_the_report_adds_up() -> None:
    report = TimeReport(
        setup=2.0,
        workflow=50.0,
        cubes=30.0,
        tasks=4,
        commands=[
            CommandTime("login", 1.5, 0.0),
            CommandTime("run", 32.0, 29.0),
            CommandTime("login", 1.0, 0.0),
            CommandTime("dataset prepare", 2.5, 1.0),
        ],
        background=1,
    )
    assert report.platform == 20.0
    assert report.share == 0.4
    assert not report.met
    assert report.count == 5
    assert report.by_verb() == [("run", 1, 3.0), ("login", 2, 2.5), ("dataset prepare", 1, 1.5)]
    assert report.lines()[3] == (
        "platform time: 20.0 s (workflow - cube tasks), 40.0% of the workflow; "
        "bar under 10%: MISSED (4.0 times the bar)"
    )
    quick = TimeReport(setup=0.0, workflow=10.0, cubes=9.5, tasks=1, commands=[])
    assert quick.met and quick.lines()[3].endswith("bar under 10%: met")


def test_the_clock_counts_each_task_time_once_background_ones_too(tmp_path: Path) -> None:
    homes = [tmp_path / "hospital", tmp_path / "vendor"]
    for home in homes:
        (home / "logs").mkdir(parents=True)

    def ran(home: Path, name: str, seconds: float) -> None:
        record_task_time(
            home / "logs" / f"{name}.log", TaskTime(cube_id=1, task="x", seconds=seconds)
        )

    clock = Clock()
    clock.start_workflow()
    ran(homes[0], "a", 1.5)
    ran(homes[0], "b", 0.25)
    assert clock.new_cube_seconds(homes[:1]) == (2, 1.75)
    assert clock.new_cube_seconds(homes[:1]) == (0, 0)  # already counted
    ran(homes[1], "c", 2.0)  # a command in the background: counted at the end
    report = clock.report(homes)
    assert (report.tasks, report.cubes) == (3, 3.75)
    assert report.platform == report.workflow - 3.75
