"""The log tail stays bounded whatever a cube prints."""

from __future__ import annotations

from medval.runner.log_tail import MAX_LINE_CHARS, LineSplitter, LogTail


def test_lines_are_split_across_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"epoch 1\nepo") == ["epoch 1"]
    assert splitter.feed(b"ch 2\r\n") == ["epoch 2"]
    assert splitter.feed(b"no newline at the end") == []
    assert splitter.flush() == ["no newline at the end"]
    assert splitter.flush() == []


def test_a_line_without_end_is_capped() -> None:
    splitter = LineSplitter(max_line_bytes=100)
    for _ in range(1000):
        assert splitter.feed(b"x" * 1000) == []
    (line,) = splitter.flush()
    assert line == "x" * 100


def test_long_lines_are_cut_and_bad_bytes_replaced() -> None:
    (line,) = LineSplitter().feed(b"\xff" + b"y" * (2 * MAX_LINE_CHARS) + b"\n")
    assert line.startswith("\ufffd") and line.endswith("…")
    assert len(line) == MAX_LINE_CHARS + 1


def test_the_tail_keeps_the_last_lines() -> None:
    tail = LogTail(max_lines=3)
    tail.extend([f"line {n}" for n in range(10)])
    tail.extend(["", "   "])
    assert tail.lines() == ("line 9", "", "   ")
    assert tail.last_nonempty() == "line 9"
    assert LogTail().last_nonempty() == ""
