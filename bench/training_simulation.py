"""Time per round of the demo's training cube on Flower's simulation engine, by number of sites.

    .venv/bin/python bench/training_simulation.py [--sites 10 100] [--rounds 3]

Goes through medval's own use case (``medval.client.training_simulation``, what ``medval
training simulate`` runs): a medval server on loopback, the demo's training cube registered
with an experiment (FedAvg, one local epoch, all sites every round), and the four demo
hospitals' prepared data pooled in one folder that N virtual sites split (Flower's
``partition-id``/``num-partitions``). Each N is one simulation: one SuperLink in simulation
mode (Ray backend, one CPU per virtual site, offline). The rounds are timed by the
ServerApp's own clock. Printed per N: the first round (it starts Ray's workers) and the
median of the later rounds, each as a ratio of the same figure for one site measured in
the same run. Needs ``flwr[simulation]`` (Flower with Ray).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
from pathlib import Path

from medval.cli.context import Session
from medval.cli.main import main as medval
from medval.client.settings import ClientSettings
from medval.client.training_simulation import SimulationRequest, simulate_experiment
from medval.core.errors import MedvalError
from medval.demo.data import SITES
from medval.demo.federated import build_training_cube, write_pooled_sites
from medval.server.admin import create_admin
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings

PASSWORD = "bench-password-1"
PREP_SPEC = """name: bench-prep
kind: data_preparator
tasks:
  prepare: {entrypoint: [python, prepare.py]}
  sanity_check: {entrypoint: [python, check.py]}
  statistics: {entrypoint: [python, statistics.py]}
"""


def command(*args: str, stdin: str = "") -> None:
    """One medval command (set-up only); stops the bench with its error if it fails."""
    sys.stdin = io.StringIO(stdin)
    with contextlib.redirect_stdout(io.StringIO()):
        code = medval(list(args))
    if code != 0:
        raise SystemExit(f"training_simulation: medval {' '.join(args[:2])} failed ({code})")


def register_experiment(root: Path, rounds: int) -> None:
    """The demo's training cube and an experiment of it, as the committee registers them."""
    prep = root / "prep"
    prep.mkdir()
    (prep / "medval-cube.yaml").write_text(PREP_SPEC)
    cube = build_training_cube(root / "cubes")
    plan = root / "plan.yaml"
    plan.write_text(f"rounds: {rounds}\nmin_sites: 1\nstrategy: FedAvg\nlocal_epochs: 1\n")
    command("login", "-u", "committee", "--password-stdin", stdin=PASSWORD + "\n")
    command("cube", "register", str(prep))  # id 1
    command("cube", "register", str(cube))  # id 2
    command("aggregator", "register", "bench", "--address", "127.0.0.1", "--port", "9092")
    register = ("training", "register", "bench", "--prep", "1", "--training-cube", "2")
    command(*register, "--plan", str(plan), "--aggregator", "bench")


def round_seconds(session: Session, pooled: Path, output: Path, sites: int) -> list[float]:
    """Simulate the experiment over ``sites`` virtual sites; the seconds of each round."""
    request = SimulationRequest("bench", sites, output, data=pooled)
    with session.client() as client:
        result = simulate_experiment(session.executor(client), request)
    if result.timed_by != "serverapp":
        raise SystemExit("training_simulation: the demo cube's ServerApp did not time its rounds")
    print(f"  {sites} sites: {[r.seconds for r in result.rounds]} s", file=sys.stderr)
    return [r.seconds for r in result.rounds]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rounds < 2 or min(args.sites) < 1:
        raise SystemExit("training_simulation: --rounds must be at least 2, --sites at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = ServerSettings(
            data_dir=root / "server", port=0, password_hash_profile="test_only_cheapest"
        )
        with BackgroundServer(settings) as server:
            create_admin(settings, "committee", PASSWORD)
            os.environ.update(MEDVAL_SERVER=server.url, MEDVAL_HOME=str(root / "client"))
            register_experiment(root, args.rounds)
            pooled = write_pooled_sites(list(SITES), root / "pooled")
            session = Session(ClientSettings())
            try:
                timings = {
                    sites: round_seconds(session, pooled, root / f"simulation-{sites}", sites)
                    for sites in [1, *args.sites]
                }
            except MedvalError as error:
                raise SystemExit(f"training_simulation: {error}") from None
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
