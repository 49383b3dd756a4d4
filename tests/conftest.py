"""Fixtures shared across test folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings
from tests import cpu_time
from tests.module_order import longest_modules_first


def pytest_configure(config: pytest.Config) -> None:
    cpu_time.register(config)  # CPU seconds per module, when make test asks (tests/cpu_time.py)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    longest_modules_first(items)  # the order make unit's main lane hands modules out in


# --- live server (owned by the server: src/medval/server) -------------------------------


@dataclass(frozen=True)
class LiveServer:
    """A real uvicorn on 127.0.0.1 with a fresh SQLite database.

    ``url`` has no trailing slash and no API prefix (add ``medval.core.api.PREFIX``).
    ``make_admin(username, password)`` creates an admin account directly in its database.
    """

    url: str
    settings: ServerSettings
    make_admin: Callable[[str, str], None]


@pytest.fixture(scope="session")
def machine_environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of cubes' Python environments for the whole run, shared as a machine's
    workspaces share it (``MEDVAL_ENVIRONMENTS``) by the tests that run real cubes with
    environments, on every xdist worker of the lane: each environment (PyTorch's: 1 GB,
    a minute or more to build) is built once, not once per client of every test. Safe side
    by side: the store builds each key once, under a lock, renamed into place when whole."""
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return run / "environments"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = ServerSettings(
        data_dir=tmp_path / "live-server",
        port=0,
        password_hash_profile="test_only_cheapest",
    )

    def make_admin(username: str, password: str) -> None:
        create_admin(settings, username, password)

    with BackgroundServer(settings) as server:
        yield LiveServer(server.url, settings, make_admin)


# --- end of live server ------------------------------------------------------------------
