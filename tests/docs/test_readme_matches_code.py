"""The README cannot drift: every command and every setting must be documented there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import typer

from medval.cli.main import app
from medval.client.settings import ClientSettings
from medval.server.settings import ServerSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def command_paths(command: Any, prefix: str = "") -> list[str]:
    if isinstance(command, click.Group):  # the root loads its commands when asked
        ctx = click.Context(command)
        paths = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            paths += command_paths(sub, f"{prefix} {name}".strip())
        return paths
    return [prefix]


COMMANDS = command_paths(typer.main.get_command(app))


def test_the_cli_has_the_commands_the_issue_names() -> None:
    for path in (
        "login",
        "logout",
        "whoami",
        "run",
        "dataset prepare",
        "dataset register",
        "dataset associate",
        "results upload",
        "model associate",
        "benchmark approve",
        "users list",
        "server create-admin",
    ):
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_is_in_the_readme(path: str) -> None:
    assert f"medval {path}" in README, f"'medval {path}' is not documented in README.md"


@pytest.mark.parametrize(
    "variable",
    [f"MEDVAL_{name.upper()}" for name in ClientSettings.model_fields]
    + [f"MEDVAL_SERVER_{name.upper()}" for name in ServerSettings.model_fields],
)
def test_every_setting_is_in_the_readme(variable: str) -> None:
    assert variable in README, f"setting {variable} is not documented in README.md"
