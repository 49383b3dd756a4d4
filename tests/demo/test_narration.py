"""The demo's narration in a log: its section rules stay as wide as a page, though the
console there is unbounded so that tables are never cut."""

from __future__ import annotations

import io

from rich.console import Console

from medval.cli.context import UNBOUNDED_WIDTH
from medval.demo.actors import LOGGED_RULE_WIDTH, section_rule


def _written(console: Console) -> list[str]:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue().splitlines()


def test_a_rule_in_a_pipe_or_a_log_is_a_page_wide() -> None:
    console = Console(file=io.StringIO(), soft_wrap=True, width=UNBOUNDED_WIDTH)
    section_rule(console, "Hospitals prepare their data  (12 s)")
    (line,) = _written(console)
    assert len(line) == LOGGED_RULE_WIDTH == 88
    assert " Hospitals prepare their data  (12 s) " in line
    assert set(line.replace(" Hospitals prepare their data  (12 s) ", "")) == {"─"}


def test_a_rule_on_a_terminal_spans_it() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=131)
    section_rule(console, "Done")
    (line,) = _written(console)
    assert len(line) == 131
