"""A bounded memory of the last lines a cube printed, whatever it prints."""

from __future__ import annotations

from collections import deque

MAX_LINE_CHARS = 1000


class LineSplitter:
    """Cuts one stream's bytes into lines; a line without end is capped, not hoarded."""

    def __init__(self, max_line_bytes: int = 4 * MAX_LINE_CHARS) -> None:
        self._partial = bytearray()
        self._max = max_line_bytes

    def feed(self, chunk: bytes) -> list[str]:
        self._partial += chunk
        *complete, rest = self._partial.split(b"\n")
        # A cube that never prints a newline must not fill our memory.
        self._partial = bytearray(rest[-self._max :])
        return [_decode(line) for line in complete]

    def flush(self) -> list[str]:
        rest, self._partial = bytes(self._partial), bytearray()
        return [_decode(rest)] if rest else []


class LogTail:
    """The last ``max_lines`` lines, each cut to a readable length."""

    def __init__(self, max_lines: int = 200) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)

    def extend(self, lines: list[str]) -> None:
        self._lines.extend(lines)

    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    def last_nonempty(self) -> str:
        return next((line for line in reversed(self._lines) if line.strip()), "")


def _decode(raw: bytes | bytearray) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + "…"
