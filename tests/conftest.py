"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings
from tests.module_order import longest_modules_first


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
