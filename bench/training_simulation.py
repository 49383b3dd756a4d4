"""Time per round of the demo's training cube on Flower's simulation engine, by number of sites.

    .venv/bin/python bench/training_simulation.py [--sites 10 100] [--rounds 3]

The four demo hospitals' prepared data are pooled and dealt to N virtual sites (Flower's
``partition-id``/``num-partitions``); one SuperLink in simulation mode (Ray backend, one CPU
per virtual site, offline) runs the cube with FedAvg and one local epoch, all sites every
round. The ServerApp times each round. Printed per N: the first round (it starts Ray's
workers) and the median of the later rounds, each as a ratio of the same figure for one
site measured in the same run. Needs ``flwr[simulation]`` (Flower with Ray).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import httpx

from medval.demo.data import SITES
from medval.demo.federated import build_training_cube, write_pooled_sites

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "FLWR_HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
        "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def start_superlink(root: Path, port: int) -> subprocess.Popen[bytes]:
    aggregator = root / "aggregator"
    aggregator.mkdir()
    with (root / "superlink.log").open("w") as log:
        process = subprocess.Popen(
            [
                str(BIN / "flower-superlink"),
                "--insecure",
                "--simulation",
                "--host=127.0.0.1",
                f"--port={port}",
                "--disable-runtime-dependency-installation",
            ],
            cwd=aggregator,
            env=environment(root / "home" / "superlink"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit(f"the SuperLink did not start; see {root / 'superlink.log'}")


def round_seconds(root: Path, cube: Path, pooled: Path, sites: int, rounds: int) -> list[float]:
    """Run the cube over ``sites`` virtual sites; the seconds of each round."""
    data = json.dumps(str(pooled))
    run_config = f"num-server-rounds={rounds} min-nodes={sites} simulation-data-path={data}"
    done = subprocess.run(
        [
            str(BIN / "flwr"),
            "run",
            str(cube),
            "simulation",
            "--stream",
            "--federation-config",
            f"num-supernodes={sites} client-resources-num-cpus=1",
            "--run-config",
            run_config,
        ],
        env=environment(root / "home" / "cli"),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    metrics = root / "aggregator" / "training_metrics.json"
    if done.returncode != 0 or not metrics.is_file():
        raise SystemExit(f"{sites} sites: flwr run failed:\n{(done.stdout + done.stderr)[-3000:]}")
    document = json.loads(metrics.read_text())
    metrics.unlink()
    return [document["rounds"][str(index)]["seconds"] for index in range(1, rounds + 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rounds < 2 or min(args.sites) < 1:
        raise SystemExit("training_simulation: --rounds must be at least 2, --sites at least 1")
    if find_spec("flwr") is None or find_spec("ray") is None:
        raise SystemExit("training_simulation: needs Flower with Ray ('flwr[simulation]')")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cube = build_training_cube(root / "cubes")
        pooled = write_pooled_sites(list(SITES), root / "pooled")
        port = free_port()
        (root / "home" / "cli").mkdir(parents=True)
        (root / "home" / "cli" / "config.toml").write_text(
            f'[superlink.simulation]\naddress = "127.0.0.1:{port}"\ninsecure = true\n'
        )
        superlink = start_superlink(root, port)
        try:
            timings = {
                sites: round_seconds(root, cube, pooled, sites, args.rounds)
                for sites in [1, *args.sites]
            }
        finally:
            os.killpg(superlink.pid, signal.SIGTERM)
            superlink.wait(timeout=30)
    first_base, later_base = timings[1][0], statistics.median(timings[1][1:])
    print(f"one site (baseline): first round {first_base:.2f} s, later rounds {later_base:.2f} s")
    for sites in args.sites:
        first, later = timings[sites][0], statistics.median(timings[sites][1:])
        print(
            f"{sites:4d} sites: first round {first:6.2f} s ({first / first_base:5.1f}x), "
            f"later rounds {later:6.2f} s ({later / later_base:5.1f}x the baseline)"
        )


if __name__ == "__main__":
    main()
