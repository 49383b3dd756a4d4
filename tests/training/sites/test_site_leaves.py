"""A site that leaves or dies in the middle of a round: the round reports it as a failure,
training goes on with the other site, and the site rejoins with the same key.

A site that leaves (Ctrl-C, :meth:`Site.stop`) tells the aggregator at once, and takes its
running ClientApp's sandbox down with it. A site that dies is marked offline once its
heartbeat lapses (about a minute in Flower 1.42): only then is its message counted failed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from medval.training.site_progress import ProgressKind

from .aggregator import PlainAggregator
from .harness import LINEAR, SiteUnderTest

pytestmark = [pytest.mark.flower, pytest.mark.sandbox]


def test_a_site_killed_mid_round_fails_that_round_and_rejoins(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest], tmp_path: Path
) -> None:
    leaving, staying = make_site("hospital-a", 0), make_site("hospital-b", 1)
    for each in (leaving, staying):
        each.site.start()
    for each in (leaving, staying):
        each.site.wait_connected(60)
    result = tmp_path / "result.json"
    run = aggregator.run(
        LINEAR,
        {
            "num-server-rounds": 5,
            "min-nodes": 1,
            "train-delay": 2.0,
            "result-path": str(result),
        },
    )
    run.wait_for(r"aggregate_train: Received 2 results and 0 failures", 120)
    # Round 2: the site dies while its ClientApp trains.
    leaving.progress.wait_for(ProgressKind.MESSAGE_RECEIVED, 60, count=2)
    time.sleep(1.0)
    started = time.monotonic()
    leaving.site.kill()
    run.wait_for(r"aggregate_train: Received 1 results and 1 failures", 150)
    print(f"the round reported the failure {time.monotonic() - started:.1f} s after the kill")
    # Training went on with the other site meanwhile; the site rejoins with its key.
    before = len(leaving.progress.events)
    leaving.site.start()
    leaving.site.wait_connected(60)
    leaving.progress.wait_for(ProgressKind.MESSAGE_RECEIVED, 120, after=before)
    leaving.progress.wait_for(ProgressKind.CLIENTAPP_FINISHED, 120, after=before)
    assert run.wait(240) == 0, run.text
    rounds = json.loads(result.read_text())["train-metrics"]
    assert sorted(rounds) == ["1", "2", "3", "4", "5"]
    assert staying.progress.of(ProgressKind.CLIENTAPP_FAILED) == []
    assert len(staying.progress.of(ProgressKind.CLIENTAPP_FINISHED)) == 5


def _parents() -> dict[int, int]:
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return found


def sandboxed_clientapps(site: SiteUnderTest) -> list[int]:
    """The processes of the site's ClientApp sandboxes: those under its ``flwr-clientapp``
    (whose command names the site's workdir) that were given the channel's token."""
    parents = _parents()
    launches = set()
    for pid in parents:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"clientapp_sandbox" in command and str(site.site.workdir).encode() in command:
            launches.add(pid)
    found = []
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor not in launches:
            ancestor = parents.get(ancestor)
        if ancestor:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"/mlcube_io/channel" in command:
                found.append(pid)
    return found


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running. A zombie has ended: orphaned, it waits for whatever
    reaps orphans here (a container's first process may never do it)."""
    running = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X"):
            running.append(pid)
    return running


def test_a_site_that_leaves_mid_round_ends_its_clientapp_and_rejoins(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest], tmp_path: Path
) -> None:
    leaving, staying = make_site("hospital-a", 0), make_site("hospital-b", 1)
    for each in (leaving, staying):
        each.site.start()
    for each in (leaving, staying):
        each.site.wait_connected(60)
    run = aggregator.run(LINEAR, {"num-server-rounds": 3, "min-nodes": 1, "train-delay": 8.0})
    leaving.progress.wait_for(ProgressKind.MESSAGE_RECEIVED, 60)
    deadline = time.monotonic() + 60
    while len(sandbox := sandboxed_clientapps(leaving)) < 2:  # The launcher, the ClientApp.
        assert time.monotonic() < deadline, "no ClientApp sandbox started"
        time.sleep(0.2)
    started = time.monotonic()
    leaving.site.stop()
    assert alive(sandbox) == []
    run.wait_for(r"aggregate_train: Received 1 results and 1 failures", 60)
    print(f"the round reported the failure {time.monotonic() - started:.1f} s after leaving")
    assert leaving.progress.events[-1].text == "the site left the experiment"
    before = len(leaving.progress.events)
    leaving.site.start()
    leaving.site.wait_connected(60)
    leaving.progress.wait_for(ProgressKind.CLIENTAPP_FINISHED, 120, after=before)
    assert run.wait(240) == 0, run.text
