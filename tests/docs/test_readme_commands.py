"""Every ``medval ...`` line quoted in README.md and SECURITY.md names a command that exists,
with options that command has: a renamed command or option fails here, not a reader."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import typer

from medval.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "SECURITY.md")

# Where a command line ends: a comment, a pipe, a redirection, the next command.
_ENDS = {"#", "|", "||", "&", "&&", ";", ">", ">>", "<", "<<", "<<<", "2>", "2>&1", ")"}
_FENCE = re.compile(r"^```(\w*)\s*$")
_SPAN = re.compile(r"`([^`]+)`")
# `medval` as a word (not `medval.core`, `medval's`, `medval-tester`, `medval[training]`).
_CALL = re.compile(r"(?<![\w.\-/\[])(?:[\w./-]*/)?medval (?=[a-z-])")

# In a block of no language (often output), only a line that starts with a command is one.
_TYPED = re.compile(r"^\s*(?:\$ )?(?:\w+=\S* )*(?:[\w./-]*/)?medval ")
# Named in README.md but added by a branch not merged yet: strictly expected to fail here,
# so that the merge that adds the command makes this test fail until the entry goes.


@dataclass(frozen=True)
class Quoted:
    document: str
    line: int
    text: str  # from `medval ` to the end of its (logical) line

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {self.text}"


def _spans(first: int, prose: list[str]) -> list[tuple[int, str]]:
    """The code spans of the prose lines starting at line ``first``, a span broken over
    two lines joined again."""
    text = "\n".join(prose)
    return [
        (first + text.count("\n", 0, span.start()), span.group(1).replace("\n", " "))
        for span in _SPAN.finditer(text)
    ]


def _code(document: str) -> list[tuple[int, str]]:
    """Each line of the document's shell blocks (continuations joined) and each code span."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    pending: tuple[int, str] | None = None
    prose: list[str] = []
    lines = (ROOT / document).read_text().splitlines()
    for number, line in enumerate([*lines, "```"], start=1):
        opened = _FENCE.match(line)
        if opened and fence is None:
            found += _spans(number - len(prose), prose)
            prose = []
            fence = opened.group(1)
            continue
        if line.startswith("```") and fence is not None:
            fence = None
            continue
        if fence is None:
            prose.append(line)
        elif fence in ("sh", "bash") or (fence == "" and (pending or _TYPED.match(line))):
            start, text = pending or (number, "")
            if line.rstrip().endswith("\\"):
                pending = (start, text + line.rstrip()[:-1] + " ")
                continue
            pending = None
            found.append((start, text + line))
    return found


def quoted_command_lines() -> list[Quoted]:
    quoted = []
    for document in DOCUMENTS:
        for number, code in _code(document):
            for call in _CALL.finditer(code):
                quoted.append(Quoted(document, number, code[call.end() :]))
    return quoted


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text, comments=False)
    except ValueError:  # an unclosed quote in prose: split on spaces
        words = text.split()
    kept = []
    for word in words:
        if word in _ENDS or word.startswith(("#", ">", "2>", "|")):
            break
        kept.append(word)
    return kept


def _options(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


ROOT_COMMAND = typer.main.get_command(app)


def problems_of(quoted: Quoted) -> list[str]:
    """What a quoted command line names that the CLI does not have (empty: all exists)."""
    words = _words(quoted.text)
    command: click.Command = ROOT_COMMAND
    path = ["medval"]
    while words and isinstance(command, click.Group):
        ctx = click.Context(command)
        word = words[0]
        if word.startswith("-") or word.isupper() or not re.fullmatch(r"[a-z][\w-]*", word):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            return [f"'{' '.join(path)}' has no command '{word}'"]
        command, path, words = sub, [*path, word], words[1:]
    known = _options(command)
    problems = []
    for word in words:
        if not re.fullmatch(r"--?[a-zA-Z][\w-]*(=.*)?", word):
            continue  # an argument, a value, or a placeholder such as `--model ID[,ID…]`
        name = word.split("=", 1)[0]
        if name not in known:
            problems.append(f"'{' '.join(path)}' has no option {name}")
    return problems


QUOTED = quoted_command_lines()


def test_the_documents_quote_many_command_lines() -> None:
    """The parser finds the quoted commands (a broken one would check nothing)."""
    assert len(QUOTED) > 150
    assert any(q.text.startswith("dataset prepare --benchmark 1") for q in QUOTED)
    assert any(q.document == "SECURITY.md" for q in QUOTED)


@pytest.mark.parametrize("quoted", QUOTED, ids=str)
def test_every_quoted_command_line_exists(quoted: Quoted) -> None:
    assert problems_of(quoted) == [], str(quoted)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dataset prepair --name x", "'medval dataset' has no command 'prepair'"),
        ("run --modle 3", "'medval run' has no option --modle"),
        ("results upload --all --yes  # then: medval run", None),
        (
            "benchmark register --name n --min-site 3",
            "'medval benchmark register' has no option --min-site",
        ),
    ],
)
def test_a_renamed_command_or_option_is_caught(text: str, problem: str | None) -> None:
    found = problems_of(Quoted("README.md", 1, text))
    assert found == ([problem] if problem else [])
