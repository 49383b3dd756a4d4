"""The last lines of ``make test``: how each lane ended and every test that failed in it.

CI shows only the end of a long report, and the lanes' reports follow one another (the
main lane's first), so a failure in the main lane scrolled out of sight behind the other
lanes' reports. This reads each lane's log and prints, per lane, pytest's closing line
("N passed, M failed in S s") and the FAILED and ERROR lines of its short summary (``-ra``).

    python -m tests.lane_summary .pytest-main.log .pytest-serial.log ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# pytest's closing line: "==== 2 failed, 36 passed, 3 warnings in 12.34s (0:00:12) ===="
CLOSING = re.compile(r"^=+ (.* in [0-9.]+s.*?) =+$")
FAILURE = re.compile(r"^(FAILED|ERROR) ")


def lane_lines(log: Path) -> list[str]:
    """What one lane's log says about how it ended: its closing line, then its failures."""
    if not log.is_file():
        return [f"{log}: no report (the lane did not run)"]
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    closing = [match.group(1) for line in text if (match := CLOSING.match(line))]
    failures = [f"  {line}" for line in text if FAILURE.match(line)]
    ended = closing[-1] if closing else "no closing line (the lane stopped before its end)"
    return [f"{log}: {ended}", *failures]


def main(logs: list[str]) -> int:
    print("== how each lane ended")
    for log in logs:
        print("\n".join(lane_lines(Path(log))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
