"""The end of ``make test`` and ``make unit``: the lanes' reports, how each lane ended and
every test that failed in it; exits 1 if any lane failed.

CI shows only the end of a long report, and the lanes' reports follow one another, so a
failure in an early one scrolled out of sight behind the others. Each lane wrote its
output to its log and, if it failed, left ``LOG.failed`` beside it (the Makefile's
``*_RUN``). The first log is the main lane's, already shown as it ran; the others are
printed here, then, per lane, pytest's closing line ("N passed, M failed in S s") and the
FAILED and ERROR lines of its short summary (``-ra``).

    python -m tests.lane_summary .pytest-main.log .pytest-serial.log ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# pytest's closing line: "==== 2 failed, 36 passed, 3 warnings in 12.34s (0:00:12) ===="
CLOSING = re.compile(r"^=+ (.* in [0-9.]+s.*?) =+$")
FAILURE = re.compile(r"^(FAILED|ERROR) ")


def failed_marker(log: Path) -> Path:
    return log.with_name(log.name + ".failed")


def lane_lines(log: Path) -> list[str]:
    """What one lane's log says about how it ended: its closing line, then its failures."""
    if not log.is_file():
        return [f"{log}: no report (the lane did not run)"]
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    closing = [match.group(1) for line in text if (match := CLOSING.match(line))]
    failures = [f"  {line}" for line in text if FAILURE.match(line)]
    if closing:
        ended = closing[-1]
    else:
        last = next((line.strip() for line in reversed(text) if line.strip()), "(empty)")
        ended = f"no closing line; its last line: {last}"
    failed = " [FAILED]" if failed_marker(log).exists() else ""
    return [f"{log}{failed}: {ended}", *failures]


def main(logs: list[Path]) -> int:
    for log in logs[1:]:
        print(f"== {log}")
        if log.is_file():
            print(log.read_text(encoding="utf-8", errors="replace"), end="")
    print("== how each lane ended")
    for log in logs:
        print("\n".join(lane_lines(log)))
    failed = [log for log in logs if failed_marker(log).exists()]
    for log in failed:
        failed_marker(log).unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main([Path(log) for log in sys.argv[1:]]))
