"""docs/cli.md, the exit codes and the settings cannot drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medval.cli.reference import reference
from medval.client.settings import ClientSettings
from medval.core import errors
from medval.core.exit_codes import MEANINGS, ExitCode, exit_codes_table
from medval.server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[2]


def test_docs_cli_md_is_what_the_code_makes() -> None:
    written = (ROOT / "docs" / "cli.md").read_text()
    assert written == reference(), "docs/cli.md is stale: run 'make docs' and commit it"


def test_the_reference_does_not_depend_on_the_terminal_or_the_home(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "medval.cli.reference"],
        env={"HOME": str(tmp_path), "COLUMNS": "40", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert made.stdout == reference()


def test_the_readme_shows_every_exit_code_as_the_code_does() -> None:
    assert exit_codes_table() in (ROOT / "README.md").read_text()


def test_every_exit_code_has_a_meaning() -> None:
    assert set(MEANINGS) == set(ExitCode)


def _error_classes() -> list[type[errors.MedvalError]]:
    found, todo = [], [errors.MedvalError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()  # every module that defines one is imported by then
    return found


def test_every_error_exits_with_a_documented_code() -> None:
    import medval.client.federation_simulation  # noqa: F401  (defines one of its own)

    classes = _error_classes()
    assert len(classes) > 15
    for cls in classes:
        assert isinstance(cls.exit_code, ExitCode), f"{cls.__name__}: {cls.exit_code!r}"


@pytest.mark.parametrize(
    ("settings", "name"),
    [(ClientSettings, name) for name in ClientSettings.model_fields]
    + [(ServerSettings, name) for name in ServerSettings.model_fields],
)
def test_every_setting_says_what_it_is(settings: type, name: str) -> None:
    assert settings.model_fields[name].description, f"{settings.__name__}.{name}: no description"
