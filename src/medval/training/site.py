"""A data owner's site in a training experiment: a Flower SuperNode, its ClientApps sandboxed.

A :class:`Site` joins the experiment's aggregator (a Flower SuperLink) with the node key
medval issued it, over TLS checked against the experiment's CA, and trains on its prepared
dataset. It runs, each in a process group of its own (:mod:`medval.training.flower_process`):

- ``flower-supernode``, in Flower's process isolation mode: it connects to the aggregator,
  receives the messages and serves the Runtime API on the host's loopback only, to a
  SuperExec that proves a secret shared with it (so no other local process can take a task);
- ``flower-superexec``, which starts one ClientApp process per message: with the site's
  ``bin/`` first on its ``PATH``, that is medval's ``flwr-clientapp``
  (:mod:`medval.training.clientapp_sandbox`), which runs Flower's own in the sandbox.
  SuperExec would start Flower's other apps as readily (``flwr-agentapp``, ...: a
  ClientApp can ask its SuperNode for such a task); ``bin/`` shadows each with a stand-in
  that refuses, so nothing the aggregator or an app asks for runs outside the sandbox.

Runtime dependency installation is never turned on (Flower 1.42 leaves it off at the
SuperNode and SuperExec unless asked): a hospital is offline, and an app's environment is
pinned with it. Flower's state is the site's own (``FLWR_HOME`` in its workdir).

What happens is said as :class:`~medval.training.site_progress.SiteProgress` events, one
line each, to the callback given (called from reader threads). :meth:`Site.stop` leaves
the experiment (the SuperNode tells the aggregator); :meth:`Site.start` again rejoins
with the same key. :meth:`Site.serve` blocks until Ctrl-C or the SuperNode ends, then
stops. The ClientApp runs under ``runner_for(runner.kind)`` in each launch's process, so
a runner's own settings beyond its kind are not carried over.

Imports ``core``, ``runner`` and this room's modules; never the HTTP server or client.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import medval
from medval.core.errors import InvalidInput, ServerUnavailable
from medval.core.pauses import SIGNAL_SLICE_SECONDS
from medval.runner.interface import Limits, Runner
from medval.training.clientapp_cube import (
    DATA_PATH_IN_SANDBOX,
    DEFAULT_CLIENTAPP_LIMITS,
    LABELS_PATH_IN_SANDBOX,
    SiteLaunchSettings,
    write_launcher_cube,
)
from medval.training.flower_env import find_flower
from medval.training.flower_process import FlowerProcess
from medval.training.node_key import check_ca_certificate, write_node_key
from medval.training.processes import free_port
from medval.training.site_progress import (
    ProgressKind,
    SiteProgress,
    SuperNodeLog,
    wrapper_event,
)

_SHA256_HEX = frozenset("0123456789abcdef")
# Flower 1.42's commands for every kind of task SuperExec may start but the ClientApp (its
# TASK_TYPE_TO_COMMAND): a site shadows each with a stand-in that refuses.
_OTHER_TASK_COMMANDS = (
    "flwr-serverapp",
    "flwr-simulation",
    "flwr-agentapp",
    "flwr-model",
    "flwr-connector",
)
# How long Flower gets to leave cleanly before its processes are killed.
_STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class SiteSetup:
    """Everything a site needs to join one experiment's training."""

    workdir: Path
    aggregator: str  # The SuperLink's Fleet API, HOST:PORT.
    ca_certificate: Path  # The experiment's CA (PEM): the aggregator's TLS is checked with it.
    node_private_key: bytes  # The site's key (PEM), issued once its association is approved.
    dataset: Path  # The prepared dataset, shown read-only to the ClientApp.
    training_app_sha256: str  # The pinned FAB of the experiment's training cube.
    runner: Runner
    limits: Limits = field(default=DEFAULT_CLIENTAPP_LIMITS)
    # The prepared labels, when kept apart from the data (medval's preparation keeps them
    # apart): shown read-only too, and told to the app as ``labels-path``.
    labels: Path | None = None

    def check(self) -> None:
        """One clear line for the first thing wrong."""
        host, _, port = self.aggregator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(
                f"the aggregator's address must be HOST:PORT, not {self.aggregator!r}"
            )
        digest = self.training_app_sha256
        if len(digest) != 64 or not set(digest) <= _SHA256_HEX:
            raise InvalidInput(
                f"the training app's pin must be a sha256 (64 hex digits), not {digest!r}"
            )
        if not self.dataset.is_dir():
            raise InvalidInput(f"the prepared dataset is not a folder: {self.dataset}")
        if self.labels is not None and not self.labels.is_dir():
            raise InvalidInput(f"the prepared labels are not a folder: {self.labels}")
        check_ca_certificate(self.ca_certificate)


class Site:
    """One site's SuperNode and SuperExec; see the module docstring."""

    def __init__(self, setup: SiteSetup, on_progress: Callable[[SiteProgress], None]) -> None:
        setup.check()
        self.setup = setup
        self.on_progress = on_progress
        self.workdir = setup.workdir.resolve()
        self.public_key = ""
        self._supernode: FlowerProcess | None = None
        self._superexec: FlowerProcess | None = None
        self._connected = threading.Event()
        self._stopping = False
        self._runtime_port: int | None = None
        self._node_log = SuperNodeLog()

    # --- the workdir ------------------------------------------------------------------

    def _prepare_workdir(self) -> Path:
        """The site's own folders; only its owner can enter the workdir (the sandbox user
        is shown its few folders directly, never the workdir)."""
        root = self.workdir
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        for name in ("bin", "flower-home", "launches", "logs", "keys"):
            (root / name).mkdir(exist_ok=True)
        # Left by launches cut short (a killed site): no launch runs while the site is down.
        for stale in (root / "launches").iterdir():
            shutil.rmtree(stale, ignore_errors=True)
        self.public_key = write_node_key(self.setup.node_private_key, root / "keys" / "node")
        secret = root / "keys" / "superexec.secret"
        secret.unlink(missing_ok=True)
        descriptor = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(32).encode())
        settings = SiteLaunchSettings(
            runner_kind=self.setup.runner.kind,
            dataset=self.setup.dataset.resolve(),
            launcher_folder=write_launcher_cube(root / "launcher"),
            launches_folder=root / "launches",
            logs_folder=root / "logs",
            pinned_fab_sha256=self.setup.training_app_sha256,
            limits=self.setup.limits,
            labels=None if self.setup.labels is None else self.setup.labels.resolve(),
        )
        settings.write(root / "site.json")
        self._write_wrapper(root / "bin", root / "site.json")
        return secret

    def _write_wrapper(self, bin_folder: Path, settings: Path) -> None:
        """The commands SuperExec finds first: medval's ``flwr-clientapp``, with this
        medval, and a stand-in that refuses for each of Flower's other task commands."""
        package_root = Path(medval.__file__).resolve().parent.parent
        start = (
            f"PYTHONPATH={shlex.quote(str(package_root))} exec {shlex.quote(sys.executable)} "
            "-m medval.training.clientapp_sandbox"
        )
        scripts = {
            "flwr-clientapp": (
                "Flower's ClientApp, run in medval's sandbox.",
                f'{start} --site {shlex.quote(str(settings))} "$@"',
            )
        }
        for command in _task_commands() - {"flwr-clientapp"}:
            scripts[command] = (
                f"a site never starts {command}: this stand-in refuses.",
                f"{start} --refuse {command}",
            )
        for command, (why, line) in scripts.items():
            path = bin_folder / command
            path.write_text(f"#!/bin/sh\n# Written by medval: {why}\n{line}\n")
            path.chmod(0o700)

    def _node_config(self) -> str:
        """What the app reads as its node configuration: where its data is, in the sandbox."""
        config = f'data-path="{DATA_PATH_IN_SANDBOX}"'
        if self.setup.labels is not None:
            config += f' labels-path="{LABELS_PATH_IN_SANDBOX}"'
        return config

    # --- starting and stopping --------------------------------------------------------

    def start(self) -> None:
        """Join (or rejoin) the experiment: start the SuperNode and the SuperExec."""
        if self.running():
            raise InvalidInput("this site is already running")
        self._end_processes()  # What is left of a SuperNode that gave up.
        self.setup.runner.check_ready()
        flower = find_flower()
        secret = self._prepare_workdir()
        root = self.workdir
        runtime_port = self._runtime_port = free_port()
        environment = {**flower.environment(root / "flower-home"), "HOME": str(root)}
        self._connected.clear()
        self._stopping = False
        self._node_log.restart()
        supernode_argv = [
            flower.command("flower-supernode"),
            "--superlink", self.setup.aggregator,
            "--root-certificates", str(self.setup.ca_certificate.resolve()),
            "--auth-supernode-private-key", str(root / "keys" / "node"),
            "--node-config", self._node_config(),
            "--isolation", "process",
            "--host", "127.0.0.1",
            "--port", str(runtime_port),
            "--superexec-auth-secret-file", str(secret),
        ]  # fmt: skip
        self._supernode = FlowerProcess(
            "supernode",
            supernode_argv,
            environment,
            root / "logs" / "supernode.log",
            self._from_supernode,
        )
        self._supernode.start()
        superexec_argv = [
            flower.command("flower-superexec"),
            "--insecure",  # The Runtime API is on the host's loopback only.
            "--runtime-api-address", f"127.0.0.1:{runtime_port}",
            "--superexec-auth-secret-file", str(secret),
            # It ends when the SuperNode does, however that ends.
            "--parent-pid", str(self._supernode.pid),
        ]  # fmt: skip
        self._superexec = FlowerProcess(
            "superexec",
            superexec_argv,
            # The site's stand-ins first: its flwr-clientapp runs the ClientApp in the sandbox.
            {**environment, "PATH": f"{root / 'bin'}{os.pathsep}{environment['PATH']}"},
            root / "logs" / "superexec.log",
            self._from_superexec,
        )
        self._superexec.start()

    def stop(self) -> None:
        """Leave the experiment: SuperExec first (no new ClientApp), then the SuperNode,
        which tells the aggregator it is gone. Safe to call twice."""
        if self._end_processes():
            self.on_progress(SiteProgress(ProgressKind.STOPPED, "the site left the experiment"))

    def _end_processes(self) -> bool:
        """Stop whatever Flower process of the site there is; whether there was one."""
        processes = [p for p in (self._superexec, self._supernode) if p is not None]
        self._stopping = True
        for process in processes:
            process.stop(_STOP_GRACE_SECONDS)
        self._superexec = self._supernode = None
        return bool(processes)

    def kill(self) -> None:
        """End every process of the site at once, as a crash or a power cut would."""
        self._stopping = True
        for process in (self._superexec, self._supernode):
            if process is not None:
                process.kill()
        self._superexec = self._supernode = None

    @property
    def runtime_address(self) -> str | None:
        """Where the SuperNode serves its Runtime API (the host's loopback), once started."""
        return None if self._runtime_port is None else f"127.0.0.1:{self._runtime_port}"

    @property
    def process_ids(self) -> dict[str, int]:
        """The process (and process group) ID of each Flower process running now."""
        found = {}
        for name, process in (("supernode", self._supernode), ("superexec", self._superexec)):
            if process is not None and process.pid is not None:
                found[name] = process.pid
        return found

    @property
    def gave_up(self) -> str | None:
        """Why the SuperNode ended on its own, in one line, if it did and said why."""
        return self._node_log.gave_up

    def running(self) -> bool:
        return self._supernode is not None and self._supernode.running()

    def wait_connected(self, timeout_seconds: float) -> None:
        """Return once the aggregator has admitted this site's node; else one line (the
        site keeps trying until it is stopped, unless its SuperNode gave up)."""
        deadline = time.monotonic() + timeout_seconds
        where = f"the aggregator at {self.setup.aggregator}"
        while not self._connected.wait(SIGNAL_SLICE_SECONDS):  # Ctrl-C: core.pauses
            if not self.running():
                if self._supernode is not None:
                    self._supernode.finish_reading(5)  # Its last lines say why.
                reason = self._node_log.gave_up or (
                    f"see {self.workdir / 'logs' / 'supernode.log'}"
                )
                raise ServerUnavailable(f"the site could not join {where}: {reason}")
            if time.monotonic() > deadline:
                if self._node_log.unreachable:
                    raise ServerUnavailable(
                        f"{where} could not be reached within {timeout_seconds:g} s"
                    )
                raise ServerUnavailable(
                    f"{where} did not admit this site within {timeout_seconds:g} s"
                )

    def serve(self) -> None:
        """Block until Ctrl-C or the SuperNode's end, then stop cleanly (:attr:`gave_up`
        says why it ended, when it was not asked to)."""
        try:
            while self.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Site:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what the processes say -------------------------------------------------------

    def _from_supernode(self, line: str) -> None:
        event = self._node_log.read(line)
        if event is None:
            return
        if event.kind is ProgressKind.CONNECTED:
            self._connected.set()
        if event.kind is ProgressKind.PROBLEM and self._stopping:
            return  # What Flower says while being stopped is not news.
        self.on_progress(event)

    def _from_superexec(self, line: str) -> None:
        event = wrapper_event(line)
        if event is not None:
            self.on_progress(event)


def _task_commands() -> set[str]:
    """Every command SuperExec may start: the ones of Flower 1.42, and whatever the
    installed Flower names beyond them."""
    commands = {"flwr-clientapp", *_OTHER_TASK_COMMANDS}
    try:
        from flwr.supercore.constant import TASK_TYPE_TO_COMMAND
    except ImportError:  # Moved in another version: the known names still hold.
        return commands
    return commands | {str(command) for command in TASK_TYPE_TO_COMMAND.values()}
