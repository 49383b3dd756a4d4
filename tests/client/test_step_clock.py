"""How far a per-case step is: done of total, elapsed, and an estimate from the pace of
the cases run now (not of those kept from an earlier run), said a few times, not per case."""

from __future__ import annotations

from medval.client.preparation.step_clock import StepClock, duration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (0.4, 42, 185, 3600 * 2 + 7 * 60 + 20)] == [
        "0 s",
        "42 s",
        "3 min 05 s",
        "2 h 07 min",
    ]


def test_a_step_says_done_elapsed_and_time_left_every_ten_seconds_and_at_the_end() -> None:
    clock, said = Clock(), []
    step = StepClock("convert", 4, said.append, every=10, clock=clock)
    clock.now += 5
    step.case_finished()  # the first: said at once
    clock.now += 4
    step.case_finished()  # 4 s after the last line: not said
    clock.now += 11
    step.case_finished()
    clock.now += 1
    step.case_finished()  # the last: always said
    assert said == [
        "convert: 1 of 4 cases, 5 s elapsed, about 15 s left",
        "convert: 3 of 4 cases, 20 s elapsed, about 7 s left",
        "convert: 4 of 4 cases, 21 s elapsed",
    ]


def test_cases_kept_from_an_earlier_run_count_but_do_not_set_the_pace() -> None:
    clock, said = Clock(), []
    step = StepClock("convert", 10, said.append, clock=clock)
    for _ in range(8):
        step.case_finished(ran=False)  # kept: nothing said, no time taken
    assert said == []
    clock.now += 60
    step.case_finished()
    assert said == [
        "convert: 9 of 10 cases (8 kept from before), 1 min 00 s elapsed, about 1 min 00 s left"
    ]
    step.case_finished(ran=False)
    assert said[-1] == "convert: 10 of 10 cases (9 kept from before), 1 min 00 s elapsed"
