"""``medval server``: migrate, create-admin, and a real server in a thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from medval.cli.server_commands import server_app
from medval.core.api import PREFIX


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MEDVAL_SERVER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDVAL_SERVER_PASSWORD_HASH_PROFILE", "test_only_cheapest")
    monkeypatch.delenv("MEDVAL_ADMIN_PASSWORD", raising=False)
    return CliRunner()


def test_migrate_creates_the_database(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(server_app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "medval.db").is_file()


def test_create_admin_reads_the_password_from_stdin(runner: CliRunner) -> None:
    result = runner.invoke(
        server_app, ["create-admin", "--username", "root", "--password-stdin"], input="s3cret-pw\n"
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        server_app, ["create-admin", "--username", "root", "--password-stdin"], input="s3cret-pw\n"
    )
    assert again.exit_code == 5
    assert again.output.strip() == "error: a user named 'root' already exists"


def test_create_admin_reads_the_password_from_the_environment(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_ADMIN_PASSWORD", "from-the-env")
    assert runner.invoke(server_app, ["create-admin", "-u", "root"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-admin", "-u", "root"], "", "error: no password: use --password-stdin"),
        (["create-admin", "-u", "bad name", "--password-stdin"], "long-enough\n", "username"),
        (["create-admin", "-u", "root", "--password-stdin"], "short\n", "password"),
        (["migrate", "--database-url", "mysql://x/y"], "", "unsupported database"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(
    runner: CliRunner, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(server_app, args, input=stdin)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines


def test_live_server_serves_the_api(live_server: Any) -> None:
    """The ``live_server`` fixture (tests/conftest.py) that client tests use."""
    live_server.make_admin("root", "root-password")
    health = httpx.get(live_server.url + PREFIX + "/health")
    assert health.json()["status"] == "ok"
    token = httpx.post(
        live_server.url + PREFIX + "/auth/token",
        json={"username": "root", "password": "root-password"},
    ).json()["token"]
    me = httpx.get(
        live_server.url + PREFIX + "/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.json()["username"] == "root"
