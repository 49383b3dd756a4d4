"""Run a Flower app with plain Flower on loopback, as Flower's own documentation does.

One ``flower-superlink --insecure`` (runtime dependency installation off: this machine is
offline), one ``flower-supernode --insecure`` per site with the node config ``data-path``
pointing at the site's prepared data, and ``flwr run APP local --stream``. No medval code
takes part: this is the reference that a run under medval must match (issue 11: the same
app on the same partitions and seed gives the same final weights within 1e-6).

Every process starts in its own process group and the whole group is killed on the way
out, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from medval.demo.federated import final_weights

BIN = Path(sys.executable).parent
FINAL_MODEL = "final_model.npz"
TRAINING_METRICS = "training_metrics.json"


class PlainFlowerFailed(Exception):
    """The run did not end with a final model; the message holds the logs' tails."""


@dataclass(frozen=True)
class PlainFlowerRun:
    final_model: Path
    weights: np.ndarray
    metrics: dict[str, object]
    seconds: float
    log: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FLWR_HOME=str(home),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        FLWR_DISABLE_UPDATE_CHECK="1",
        FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION="1",
        FLWR_TELEMETRY_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def _process(command: list[str], cwd: Path, home: Path, log: Path) -> Iterator[None]:
    """A process in its own group, killed with its children when the block ends."""
    cwd.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=10)
                # The leader is gone; its children may not be.
                os.killpg(process.pid, signal.SIGKILL)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                pass
            break
        process.wait()


def _wait_for_superlink(port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise PlainFlowerFailed(f"the SuperLink did not start in {timeout} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"({path.name}: no log)"
    return f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    return repr(value)


def run_config_argument(config: Mapping[str, object]) -> str:
    return " ".join(f"{key}={_toml(value)}" for key, value in config.items())


def run_plain_flower(
    app: Path,
    sites: Sequence[Path],
    workdir: Path,
    run_config: Mapping[str, object] | None = None,
    timeout: float = 900,
) -> PlainFlowerRun:
    """Run ``app`` over one SuperNode per folder in ``sites``; the final model it wrote."""
    port = free_port()
    aggregator = workdir / "aggregator"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    superlink_log = logs / "superlink.log"
    started = time.monotonic()
    with ExitStack() as stack:
        stack.enter_context(
            _process(
                [
                    str(BIN / "flower-superlink"),
                    "--insecure",
                    "--host=127.0.0.1",
                    f"--port={port}",
                    "--disable-runtime-dependency-installation",
                ],
                aggregator,
                workdir / "home" / "superlink",
                superlink_log,
            )
        )
        _wait_for_superlink(port, superlink_log)
        for index, data in enumerate(sites):
            stack.enter_context(
                _process(
                    [
                        str(BIN / "flower-supernode"),
                        "--insecure",
                        f"--superlink=127.0.0.1:{port}",
                        "--host=127.0.0.1",
                        f"--port={free_port()}",
                        f"--node-config=data-path={_toml(str(data))}",
                    ],
                    workdir / f"site-{index}",
                    workdir / "home" / f"site-{index}",
                    logs / f"supernode-{index}.log",
                )
            )
        cli_home = workdir / "home" / "cli"
        cli_home.mkdir(parents=True, exist_ok=True)
        (cli_home / "config.toml").write_text(
            f'[superlink]\ndefault = "local"\n\n[superlink.local]\n'
            f'address = "127.0.0.1:{port}"\ninsecure = true\n'
        )
        command = [str(BIN / "flwr"), "run", str(app), "local", "--stream"]
        if run_config:
            command += ["--run-config", run_config_argument(run_config)]
        done = subprocess.run(
            command,
            env=_env(cli_home),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        seconds = time.monotonic() - started
        log = done.stdout + done.stderr
        final_model = aggregator / FINAL_MODEL
        if done.returncode != 0 or not final_model.is_file():
            tails = "\n".join(_tail(path) for path in sorted(logs.iterdir()))
            raise PlainFlowerFailed(
                f"flwr run exited with {done.returncode}; no {FINAL_MODEL}\n{log[-4000:]}\n{tails}"
            )
    metrics = json.loads((aggregator / TRAINING_METRICS).read_text())
    return PlainFlowerRun(final_model, final_weights(final_model), metrics, seconds, log)
