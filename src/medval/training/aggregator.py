"""The aggregator: Flower's SuperLink (and the ServerApp it runs) under medval's authority.

``Aggregator(settings).start()`` checks the experiment's server certificate (issued by
the experiment CA for the address the sites dial, and matching its key), starts the
SuperLink on loopback (``superlink``) and the fleet gate on the public address
(``fleet_gate``: only the Fleet API is reachable from outside; why is said there).
``sync_nodes`` admits exactly the approved sites (``site_admission``); ``run`` trains
with a pinned training cube and a plan (``training_run``); ``stop`` ends every process
it started, and so does leaving the ``with`` block, on an error or Ctrl-C too.

Work directory (kept across restarts: Flower's state and the admitted sites)::

    superlink.db, flwr-home/, serverapp/, loopback/   the SuperLink (see ``superlink``)
    public/server.pem, public/server.key              what the fleet gate serves
    nodes.json                                        the admitted sites and node ids
    runs/<n>/                                         each run: app, config, log, model
    logs/                                             what the Flower processes print

Plain Python over typed inputs (paths, PEM bytes, key texts, a plan): no HTTP to
medval's server. Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from medval.core.errors import InvalidInput
from medval.core.training_plan import TrainingPlan
from medval.training.app import read_fab_app, verify_fab
from medval.training.ca import check_key_pair, check_server_certificate, server_host
from medval.training.control import Control
from medval.training.fleet_gate import FleetGate
from medval.training.flower_env import FlowerInstall, find_flower
from medval.training.site_admission import AdmittedNode, NodeSync, SiteAdmission
from medval.training.superlink import SuperLink
from medval.training.training_run import (
    PinnedFab,
    ProgressCallback,
    TrainingOutcome,
    TrainingRun,
    prepare_run,
)


@dataclass(frozen=True)
class AggregatorSettings:
    """What an aggregator needs. ``address`` is what the sites dial (``host:port``, as
    the server certificate names it); ``bind_host`` is where the fleet gate listens
    (by default the address's host if it is an IP address, else all interfaces)."""

    workdir: Path
    ca_cert_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes
    address: str
    bind_host: str | None = None

    @property
    def host(self) -> str:
        return server_host(self.address)

    @property
    def port(self) -> int:
        match = re.fullmatch(r"(?:\[[^\]]+\]|[^:\[\]]+):(\d{1,5})", self.address.strip())
        if match is None or not 0 < int(match.group(1)) < 65536:
            raise InvalidInput(
                f"aggregator address {self.address!r} needs a port (host:port or [v6]:port)"
            )
        return int(match.group(1))

    @property
    def listen_host(self) -> str:
        if self.bind_host is not None:
            return self.bind_host
        try:
            return str(ipaddress.ip_address(self.host))
        except ValueError:
            return "0.0.0.0"


class Aggregator:
    def __init__(self, settings: AggregatorSettings, flower: FlowerInstall | None = None) -> None:
        self.settings = settings
        self.flower = flower or find_flower()
        self.workdir = settings.workdir
        self.superlink = SuperLink(self.flower, self.workdir)
        self.control = Control(self.flower, self.superlink.layout.flwr_home)
        self.gate: FleetGate | None = None
        self._admission: SiteAdmission | None = None
        self._run: TrainingRun | None = None
        self._run_lock = threading.Lock()

    @property
    def fleet_port(self) -> int:
        """The port the fleet gate listens on (the address's own once started)."""
        return self.gate.port if self.gate is not None else self.settings.port

    def start(self) -> Aggregator:
        settings = self.settings
        port = settings.port
        check_server_certificate(settings.ca_cert_pem, settings.server_cert_pem, settings.address)
        check_key_pair(settings.server_cert_pem, settings.server_key_pem)
        public = self.workdir / "public"
        public.mkdir(parents=True, exist_ok=True)
        certfile, keyfile = public / "server.pem", public / "server.key"
        certfile.write_bytes(settings.server_cert_pem)
        keyfile.touch(mode=0o600)
        keyfile.chmod(0o600)
        keyfile.write_bytes(settings.server_key_pem)
        self.gate = FleetGate(
            settings.listen_host,
            port,
            certfile,
            keyfile,
        ).bind()
        try:
            self.superlink.start()
            self.gate.start(f"https://{self.superlink.address}", self.superlink.layout.loopback_ca)
            self._admission = SiteAdmission(self.control, self.workdir / "nodes.json")
        except BaseException:
            self.stop()
            raise
        return self

    def sync_nodes(self, approved: Mapping[str, str], revoked: Iterable[str] = ()) -> NodeSync:
        """Admit exactly the ``approved`` sites (name -> node public key, OpenSSH text);
        unregister the ``revoked`` ones and any no longer approved."""
        if self._admission is None:
            raise InvalidInput("the aggregator is not started")
        return self._admission.sync(approved, revoked)

    def admitted_sites(self) -> dict[str, AdmittedNode]:
        """The sites registered at the SuperLink: name, node key and Flower's node id."""
        if self._admission is None:
            raise InvalidInput("the aggregator is not started")
        return self._admission.admitted

    def run(
        self,
        plan: TrainingPlan,
        fab: PinnedFab,
        on_progress: ProgressCallback | None = None,
        timeout_seconds: float | None = None,
    ) -> TrainingOutcome:
        """Train: the pinned FAB checked (refused before anything runs if one byte
        differs), submitted with the plan's run configuration, followed to its end."""
        verify_fab(fab.path, fab.sha256)
        if not self.superlink.running():
            raise InvalidInput("the aggregator is not started")
        if not self._run_lock.acquire(blocking=False):
            raise InvalidInput("a training run is already going on this aggregator")
        try:
            app = read_fab_app(fab.path)
            run_dir = self._next_run_dir()
            app_dir = prepare_run(fab, plan, run_dir, self.superlink)
            self._run = TrainingRun(self.superlink, self.control, app, plan.rounds)
            return self._run.follow(app_dir, fab, on_progress, timeout_seconds)
        finally:
            self._run = None
            self._run_lock.release()

    def stop(self) -> None:
        """Stop the run (if any), the gate and the SuperLink with all it started."""
        run = self._run
        if run is not None:
            run.stop()
        if self.gate is not None:
            self.gate.stop()
            self.gate = None
        self.superlink.stop()

    def __enter__(self) -> Aggregator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _next_run_dir(self) -> Path:
        runs = self.workdir / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        taken = [int(path.name) for path in runs.iterdir() if path.name.isdigit()]
        return runs / str(max(taken, default=0) + 1)
