"""The root command loads a command's module only when it runs, and lists the commands
from its table: the table must say what each command says of itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medval.cli.command_table import COMMANDS, CommandEntry
from medval.cli.lazy_group import load_command


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda entry: entry.name)
def test_the_table_says_what_each_command_says(entry: CommandEntry) -> None:
    command = load_command(entry)
    assert command.name == entry.name
    assert entry.help == command.get_short_help_str(limit=1000)


def test_each_command_is_listed_once() -> None:
    names = [entry.name for entry in COMMANDS]
    assert len(names) == len(set(names))


def test_version_and_help_import_no_command() -> None:
    probe = (
        "import sys\n"
        "from medval.cli.main import main\n"
        "for argv in (['--version'], ['--help']):\n"
        "    assert main(argv) == 0\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('medval.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = done.stdout.strip().splitlines()[-1].split()
    assert loaded == [
        "medval.cli",
        "medval.cli.command_table",
        "medval.cli.lazy_group",
        "medval.cli.main",
        "medval.core",
        "medval.core.errors",
        "medval.core.exit_codes",  # the standard library only: what each error exits with
    ]
