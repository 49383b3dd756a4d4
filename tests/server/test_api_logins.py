"""Logging in: failures limited per account and per address, an unknown user answered as
slowly as a known one, and a bounded number of password checks at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.migrated import migrate

from medval.core.api import PREFIX
from medval.server.admin import create_admin
from medval.server.app import create_app
from medval.server.services.context import ServiceContext
from medval.server.settings import ServerSettings

from .conftest import PASSWORD, Api, Clock


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        password_hash_profile="test_only_cheapest",
        login_max_failures=3,
        login_failure_window_seconds=60,
        max_concurrent_password_checks=1,
        password_check_wait_seconds=0,
    )
    migrate(settings)
    return settings


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_an_account_is_locked_after_failures_until_the_window_passes(
    api: Api, clock: Clock
) -> None:
    api.admin("alice")
    for _ in range(3):
        assert _error(api.login("alice", "wrong")) == (401, "wrong username or password")
    locked = api.login("alice")  # even the right password
    assert _error(locked) == (429, "too many failed logins for this account; try again in 60 s")
    assert locked.json()["error"]["code"] == "rate_limited"
    assert locked.headers["Retry-After"] == "60"
    clock.advance(seconds=45)
    assert api.login("alice").headers["Retry-After"] == "15"
    clock.advance(seconds=15)
    assert api.login("alice").status_code == 200


def test_an_unknown_name_is_limited_like_a_known_one(api: Api) -> None:
    for _ in range(3):
        assert _error(api.login("nobody", "wrong")) == (401, "wrong username or password")
    assert _error(api.login("nobody", "wrong")) == (
        429,
        "too many failed logins for this account; try again in 60 s",
    )


def test_an_address_is_limited_across_accounts(api: Api, clock: Clock) -> None:
    api.admin("alice")
    for name in ("bob", "carol", "dave"):  # one failure each: no account is locked
        assert api.login(name, "wrong").status_code == 401
    assert _error(api.login("alice")) == (
        429,
        "too many failed logins for your address; try again in 60 s",
    )
    clock.advance(seconds=60)
    assert api.login("alice").status_code == 200


def test_a_success_clears_the_account_but_not_the_address(api: Api) -> None:
    api.admin("alice")
    for _ in range(2):
        api.login("alice", "wrong")
    assert api.login("alice").status_code == 200
    assert _error(api.login("alice", "wrong")) == (401, "wrong username or password")
    assert _error(api.login("alice")) == (
        429,
        "too many failed logins for your address; try again in 60 s",
    )


def test_password_checks_beyond_the_bound_get_503(api: Api, client: TestClient) -> None:
    api.admin("alice")
    context: ServiceContext = client.app.state.context  # type: ignore[attr-defined]
    with context.logins.password_check():  # the one slot is taken
        busy = api.login("alice")
        assert _error(busy) == (503, "the server is busy checking passwords; try again shortly")
        assert busy.json()["error"]["code"] == "server_unavailable"
    assert api.login("alice").status_code == 200


@pytest.fixture
def real_cost_client(tmp_path: Path) -> Iterator[TestClient]:
    """argon2 at its real cost, where the time a check takes is what is measured."""
    settings = ServerSettings(data_dir=tmp_path / "real", login_max_failures=100)
    migrate(settings)
    create_admin(settings, "alice", PASSWORD)
    with TestClient(create_app(settings)) as client:
        yield client


def test_an_unknown_user_takes_as_long_as_a_known_one(real_cost_client: TestClient) -> None:
    def seconds(username: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            response = real_cost_client.post(
                PREFIX + "/auth/token", json={"username": username, "password": "wrong-password"}
            )
            times.append(time.perf_counter() - started)
            assert response.status_code == 401
        return min(times)

    seconds("nobody")  # the dummy hash is made once, on the first unknown user
    known, unknown = seconds("alice"), seconds("nobody")
    # Before: 0.12 s against 1.25 s. Both now verify one argon2 hash of the same cost.
    assert unknown > 0.6 * known, (known, unknown)
    assert known > 0.6 * unknown, (known, unknown)
