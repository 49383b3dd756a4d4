"""A site runs only the training app its experiment pins: a different FAB is refused inside
the sandbox before any of its code is imported.

The aggregator runs a tampered copy of the test app, whose ClientApp says so in its log
the moment it is imported. One site pins the original app and must refuse; another pins
the tampered copy itself, and its log shows the marker: so the marker would be seen.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from medval.training.clientapp_launcher import REFUSAL_PREFIX
from medval.training.site_progress import ProgressKind

from .aggregator import PlainAggregator
from .harness import LINEAR, SiteUnderTest, fab_sha256

pytestmark = [pytest.mark.flower, pytest.mark.sandbox]

MARKER = "medval-test: the TAMPERED ClientApp was imported"


def tampered_copy(folder: Path) -> Path:
    app = shutil.copytree(LINEAR, folder / "linear", ignore=shutil.ignore_patterns("__pycache__"))
    client = app / "linear" / "client_app.py"
    client.write_text(client.read_text() + f"\nprint({MARKER!r}, flush=True)\n")
    return app


def test_a_fab_other_than_the_pinned_one_is_refused_before_its_code_runs(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest], tmp_path: Path
) -> None:
    tampered = tampered_copy(tmp_path / "tampered")
    pinned, other = fab_sha256(LINEAR), fab_sha256(tampered)
    assert pinned != other
    refusing = make_site("pins-the-original", 0)
    trusting = make_site("pins-the-tampered-copy", 1, app=tampered)
    for each in (refusing, trusting):
        each.site.start()
    for each in (refusing, trusting):
        each.site.wait_connected(60)
    aggregator.run(tampered, {"num-server-rounds": 1, "min-nodes": 1})

    (refusal,) = refusing.progress.wait_for(ProgressKind.APP_REFUSED, 120)
    assert refusal.text == (
        f"{REFUSAL_PREFIX} before running it: its FAB has sha256 {other}, "
        f"but the experiment pins {pinned}"
    )
    assert refusing.progress.of(ProgressKind.CLIENTAPP_FINISHED) == []
    assert MARKER not in refusing.clientapp_logs()
    assert refusing.clientapp_logs().rstrip().endswith(refusal.text)

    trusting.progress.wait_for(ProgressKind.CLIENTAPP_FINISHED, 120)
    assert trusting.progress.of(ProgressKind.APP_REFUSED) == []
    assert MARKER in trusting.clientapp_logs()
