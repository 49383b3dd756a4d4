"""The CLI follows a list's pages: against a real server whose pages hold two items, a
list command with more rows than a page shows every row, once, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings
from tests.cli.test_account_commands import (  # noqa: F401 (fixtures, used by name)
    PASSWORD,
    Medval,
    as_person,
    root,
)
from tests.conftest import LiveServer

NAMES = ["root", "alice", "bob", "carol", "dave"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The live server, with pages of two items unless a caller asks for more."""
    settings = ServerSettings(
        data_dir=tmp_path / "live-server",
        port=0,
        password_hash_profile="test_only_cheapest",
        page_limit=2,
    )
    with BackgroundServer(settings) as server:
        yield LiveServer(server.url, settings, lambda name, pw: create_admin(settings, name, pw))


def test_a_list_longer_than_a_page_is_shown_whole(root: Medval) -> None:  # noqa: F811
    for name in NAMES[1:]:
        created = root("users", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert created.code == 0, created.stderr
    listed = root("users", "list", "--format", "json")
    assert listed.code == 0, listed.stderr
    assert [user["username"] for user in json.loads(listed.stdout)] == NAMES
    table = root("users", "list")
    assert table.code == 0, table.stderr
    rows = [line.split("│") for line in table.stdout.splitlines() if line.startswith("│")]
    assert [(row[1].strip(), row[2].strip()) for row in rows] == [
        (str(n), name) for n, name in enumerate(NAMES, start=1)
    ]
