"""``medval server``: migrate, create-admin, and a real server in a thread."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from medval.cli.main import main
from medval.core.api import PREFIX


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str


Medval = Callable[..., Outcome]


@pytest.fixture
def medval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Medval:
    """Run ``medval`` through its real entry point (and error boundary), in process."""
    monkeypatch.setenv("MEDVAL_SERVER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDVAL_SERVER_PASSWORD_HASH_PROFILE", "test_only_cheapest")
    monkeypatch.delenv("MEDVAL_ADMIN_PASSWORD", raising=False)

    def run(*args: str, stdin: str = "") -> Outcome:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(["server", *args])
        return Outcome(code, capsys.readouterr().err)

    return run


def test_migrate_creates_the_database(medval: Medval, tmp_path: Path) -> None:
    result = medval("migrate")
    assert result.code == 0, result.stderr
    assert (tmp_path / "data" / "medval.db").is_file()


def test_create_admin_reads_the_password_from_stdin(medval: Medval) -> None:
    result = medval("create-admin", "--username", "root", "--password-stdin", stdin="s3cret-pw\n")
    assert result.code == 0, result.stderr
    again = medval("create-admin", "--username", "root", "--password-stdin", stdin="s3cret-pw\n")
    assert again.code == 5
    assert again.stderr.strip() == "error: a user named 'root' already exists"


def test_create_admin_reads_the_password_from_the_environment(
    medval: Medval, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_ADMIN_PASSWORD", "from-the-env")
    assert medval("create-admin", "-u", "root").code == 0


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
    medval: Medval, args: list[str], stdin: str, message: str
) -> None:
    result = medval(*args, stdin=stdin)
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
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


@pytest.mark.parametrize(
    ("url", "code", "line"),
    [
        (
            "postgresql://medval:s3cret-pw@127.0.0.1:1/medval",
            7,
            "error: cannot use the database postgresql://medval:***@127.0.0.1:1/medval: "
            'connection failed: connection to server at "127.0.0.1", port 1 failed: '
            "Connection refused",
        ),
        (
            "postgresql://medval:s3cret-pw@127.0.0.1:notaport/medval",
            2,
            "error: not a database URL: 'postgresql://medval:***@127.0.0.1:notaport/medval'",
        ),
    ],
)
@pytest.mark.parametrize("command", ["start", "migrate"])
def test_an_unusable_database_is_one_line_without_its_password(
    medval: Medval, command: str, url: str, code: int, line: str
) -> None:
    args = [command, "--database-url", url] + (["--port", "0"] if command == "start" else [])
    result = medval(*args)
    assert (result.code, result.stderr.strip()) == (code, line)
    assert "s3cret" not in result.stderr


def test_a_certificate_that_cannot_be_used_is_one_line(medval: Medval, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = medval("start", "--port", "0", "--certfile", str(missing), "--keyfile", str(missing))
    assert (result.code, result.stderr.strip()) == (
        2,
        f"error: cannot serve HTTPS with certificate {missing} and key {missing}: "
        "No such file or directory",
    )
    half = medval("start", "--port", "0", "--certfile", str(missing))
    assert (half.code, half.stderr.strip()) == (
        2,
        "error: invalid setting Value error, certfile and keyfile: give both or neither",
    )


def test_workers_below_one_are_one_line(medval: Medval, monkeypatch: pytest.MonkeyPatch) -> None:
    result = medval("start", "--port", "0", "--workers", "0")
    line = "error: invalid setting workers: Input should be greater than or equal to 1"
    assert (result.code, result.stderr.strip()) == (2, line)
    monkeypatch.setenv("MEDVAL_SERVER_WORKERS", "none")
    from_env = medval("start", "--port", "0")
    assert (from_env.code, from_env.stderr.strip()) == (
        2,
        "error: invalid setting workers: Input should be a valid integer, unable to parse "
        "string as an integer",
    )
