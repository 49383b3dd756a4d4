"""The app's start-up moves what it made out of the garbage collector's way (``gc.freeze``),
so a request that makes many objects does not set off collections of the whole heap
(measured by bench/pending_work.py); and gives it back when the app stops."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from medval.server.app import create_app
from medval.server.settings import ServerSettings


def test_start_up_freezes_the_heap_and_shut_down_thaws_it(settings: ServerSettings) -> None:
    gc.unfreeze()
    app = create_app(settings)
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/api/v1/health").status_code == 200
    assert gc.get_freeze_count() == 0
