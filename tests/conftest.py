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


# --- the main lane's order (pytest-xdist, `make unit`) -----------------------------------

# With --dist loadfile the workers are handed whole modules in collection order. The
# longest go first (the imaging and medval demos, the end-to-end and browser walks: whole
# federations each), so that the lane does not end with one worker alone on one of them
# while the other has nothing left to do.
LONGEST_FIRST = (
    "tests/imaging/",
    "tests/demo/",
    "tests/e2e/",
    "tests/browser/",
    "tests/console/",
    "tests/docs/test_readme_runs.py",
    "tests/client/test_preparation_proof.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))
