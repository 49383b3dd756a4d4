"""A site's ClientApp is contained, on each runner (bubblewrap, Docker, Podman): it reaches
nothing but its relay to the local SuperNode, reads nothing of the host but its prepared
dataset, and cannot have the SuperNode start anything outside the sandbox for it.

The app (``site_apps/linear``) tries each address and file itself and sends what it
managed as metrics in its reply; with one site, the aggregated metrics are its own.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medval.runner import Runner
from medval.training.clientapp_cube import DATA_PATH_IN_SANDBOX
from medval.training.clientapp_launcher import LISTEN_HOST, LISTEN_PORT
from medval.training.site_progress import ProgressKind

from .aggregator import PlainAggregator
from .harness import LINEAR, SiteUnderTest, fab_sha256

pytestmark = [pytest.mark.flower, pytest.mark.sandbox]


def _outward_address() -> str | None:
    """This host's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.1", 80))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
        return address


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP service on every address of the host, which no ClientApp may reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("0.0.0.0", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_a_clientapp_reaches_only_its_relay_and_reads_only_its_data(
    aggregator: PlainAggregator,
    make_site: Callable[..., SiteUnderTest],
    host_listener: int,
    site_runner: Runner,
    tmp_path: Path,
) -> None:
    hospital = make_site("hospital-a", 0, runner=site_runner)
    secret = tmp_path / "datasets" / "secret.txt"
    secret.write_text("a patient's name\n")
    secret.chmod(0o644)  # Readable by anyone who can see it: only the sandbox hides it.
    hospital.site.start()
    hospital.site.wait_connected(60)
    assert hospital.site.runtime_address is not None
    targets = {
        "the launcher's relay inside the sandbox": f"{LISTEN_HOST}:{LISTEN_PORT}",
        "the aggregator (SuperLink)": aggregator.address,
        "the site's own SuperNode": hospital.site.runtime_address,
        "a service on the host's loopback": f"127.0.0.1:{host_listener}",
        "an address outside": "10.255.255.1:80",
        "a package index": "pypi.org:443",
    }
    outward = _outward_address()
    if outward is not None:
        targets["a service on the host's own address"] = f"{outward}:{host_listener}"
    files = {
        "its dataset": str(DATA_PATH_IN_SANDBOX / "data.csv"),
        "a secret file beside the dataset": str(secret),
        "the site's node key": str(hospital.site.workdir / "keys" / "node"),
        # Not /etc/passwd: Podman writes one of its own into every container.
        "the host's /etc/os-release": "/etc/os-release",
    }
    result = tmp_path / "result.json"
    run = aggregator.run(
        LINEAR,
        {
            "num-server-rounds": 1,
            "min-nodes": 1,
            "result-path": str(result),
            "probe-targets": ",".join(targets.values()),
            "read-paths": ",".join(files.values()),
            # Flower would start this one on the host, outside the sandbox.
            "spawn-task": "flwr-agentapp",
            "spawn-fab-hash": fab_sha256(LINEAR),
        },
    )
    assert run.wait(180) == 0, run.text
    metrics = json.loads(result.read_text())["train-metrics"]["1"]
    reached = {what: metrics[f"probe-{n}"] for n, what in enumerate(targets)}
    read = {what: metrics[f"read-{n}"] for n, what in enumerate(files)}
    assert reached == {
        what: float(what == "the launcher's relay inside the sandbox") for what in targets
    }
    assert read == {what: float(what == "its dataset") for what in files}
    hospital.progress.wait_for(ProgressKind.CLIENTAPP_FINISHED, 60)  # Its log is whole.
    # Not there at all, rather than there but forbidden.
    assert f"read {secret}: [Errno 2] No such file or directory" in hospital.clientapp_logs()
    # The site's channel refused the ClientApp's request: the SuperNode never saw it (and
    # had it, the site's stand-in would have refused to start the task).
    assert metrics["spawn-accepted"] == 0.0
    (refused,) = hospital.progress.wait_for(ProgressKind.CALL_REFUSED, 60)
    assert refused.text == (
        "refused the ClientApp's call /v1/runtime/create-task: not one a ClientApp needs"
    )
    # What the app was told: the channel's 403. Twice in CI, under load, the app saw its
    # connection closed without an answer instead (not reproduced here; see the stop-26
    # note); either way the call went no further than the channel.
    logs = hospital.clientapp_logs().splitlines()
    said = [line.partition("spawn flwr-agentapp: ")[2] for line in logs if "spawn flwr-" in line]
    assert len(said) == 1, said
    assert said[0].startswith("Client error '403 Forbidden'") or (
        said[0] == "Server disconnected without sending a response."
    ), said
    assert hospital.progress.of(ProgressKind.TASK_REFUSED) == []
