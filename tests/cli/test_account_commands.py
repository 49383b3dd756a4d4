"""``medval password`` and ``medval users set-password|disable|enable|revoke-tokens``
against a real server: exact exit codes and one-line messages."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.cli.main import main
from tests.conftest import LiveServer

PASSWORD = "first-password-1"
NEW = "second-password-2"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


Medval = Callable[..., Outcome]


@pytest.fixture
def as_person(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[str], Medval]:
    """``as_person(name)(*args, stdin=...)`` runs medval in ``name``'s own client folder."""
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    monkeypatch.setenv("COLUMNS", "200")
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_NEW_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)

    def person(name: str) -> Medval:
        def run(*args: str, stdin: str = "") -> Outcome:
            monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / name))
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            code = main(list(args))
            out = capsys.readouterr()
            return Outcome(code, out.out, out.err.strip())

        return run

    return person


@pytest.fixture
def root(live_server: LiveServer, as_person: Callable[[str], Medval]) -> Medval:
    live_server.make_admin("root", PASSWORD)
    run = as_person("root")
    assert run("login", "-u", "root", "--password-stdin", stdin=PASSWORD + "\n").code == 0
    return run


@pytest.fixture
def alice(root: Medval, as_person: Callable[[str], Medval]) -> Medval:
    created = root("users", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.code == 0, created.stderr
    run = as_person("alice")
    assert run("login", "-u", "alice", "--password-stdin", stdin=PASSWORD + "\n").code == 0
    return run


def _login(run: Medval, name: str, password: str) -> Outcome:
    return run("login", "-u", name, "--password-stdin", stdin=password + "\n")


def test_a_user_changes_their_own_password(alice: Medval) -> None:
    wrong = alice("password", "--password-stdin", stdin=f"nope\n{NEW}\n")
    assert (wrong.code, wrong.stderr) == (3, "error: the old password is wrong")
    short = alice("password", "--password-stdin", stdin=f"{PASSWORD}\nshort\n")
    assert (short.code, short.stderr) == (
        2,
        "error: new_password: String should have at least 8 characters",
    )
    done = alice("password", "--password-stdin", stdin=f"{PASSWORD}\n{NEW}\n")
    assert (done.code, done.stderr) == (
        0,
        "password of alice changed; your other sessions are logged out",
    )
    assert alice("whoami").code == 0  # this session stays
    old = _login(alice, "alice", PASSWORD)
    assert (old.code, old.stderr) == (3, "error: wrong username or password")
    assert _login(alice, "alice", NEW).code == 0


def test_an_admin_sets_a_password_and_others_may_not(root: Medval, alice: Medval) -> None:
    by_alice = alice("users", "set-password", "root", "--password-stdin", stdin=NEW + "\n")
    assert (by_alice.code, by_alice.stderr) == (3, "error: only an admin may do this")
    done = root("users", "set-password", "alice", "--password-stdin", stdin=NEW + "\n")
    assert (done.code, done.stderr) == (0, "password of alice set; their sessions are logged out")
    stale = alice("whoami")
    assert (stale.code, stale.stderr) == (3, "error: unknown or revoked token; log in again")
    assert _login(alice, "alice", NEW).code == 0
    unknown = root("users", "set-password", "nobody", "--password-stdin", stdin=NEW + "\n")
    assert (unknown.code, unknown.stderr) == (4, "error: no user named 'nobody'")


def test_an_admin_disables_and_enables_an_account(root: Medval, alice: Medval) -> None:
    done = root("users", "disable", "--yes", "alice")
    assert (done.code, done.stderr) == (0, "alice is disabled; their sessions are logged out")
    stale = alice("whoami")
    assert (stale.code, stale.stderr) == (3, "error: unknown or revoked token; log in again")
    refused = _login(alice, "alice", PASSWORD)
    assert (refused.code, refused.stderr) == (3, "error: this account is disabled; ask an admin")
    listed = root("users", "list", "--format", "json")
    assert '"disabled": true' in listed.stdout
    assert root("users", "enable", "alice").stderr == "alice is enabled"
    assert _login(alice, "alice", PASSWORD).code == 0
    by_alice = alice("users", "disable", "--yes", "root")
    assert (by_alice.code, by_alice.stderr) == (3, "error: only an admin may do this")


def test_revoking_tokens_logs_an_account_out_everywhere(root: Medval, alice: Medval) -> None:
    assert _login(alice, "alice", PASSWORD).code == 0  # a second token
    own = alice("users", "revoke-tokens", "--yes")
    assert (own.code, own.stderr) == (0, "revoked 2 token(s) of alice; log in again")
    after = alice("whoami")
    assert after.code == 3 and after.stderr.startswith("error: not logged in")
    assert _login(alice, "alice", PASSWORD).code == 0
    by_root = root("users", "revoke-tokens", "--yes", "alice")
    assert (by_root.code, by_root.stderr) == (0, "revoked 1 token(s) of alice")
    assert root("whoami").code == 0
    assert _login(alice, "alice", PASSWORD).code == 0
    by_alice = alice("users", "revoke-tokens", "--yes", "root")
    assert (by_alice.code, by_alice.stderr) == (3, "error: only an admin may do this")
