"""The serving process's start-up moves what it made out of the garbage collector's way
(``gc.freeze``), so a request that makes many objects does not set off collections of the
whole heap (measured by bench/pending_work.py), and gives it back when the app stops. An
app built inside a test process (``create_app`` alone) leaves the heap as it is."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from medval.server.app import create_app
from medval.server.serve import AppFactory
from medval.server.settings import ServerSettings


def test_the_served_app_freezes_the_heap_at_start_up_and_thaws_it_at_shut_down(
    settings: ServerSettings,
) -> None:
    gc.unfreeze()
    app = AppFactory(settings)()
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/api/v1/health").status_code == 200
    assert gc.get_freeze_count() == 0


def test_an_app_built_alone_leaves_the_heap_as_it_is(settings: ServerSettings) -> None:
    gc.unfreeze()
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert gc.get_freeze_count() == 0
