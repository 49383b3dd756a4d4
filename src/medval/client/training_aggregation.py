"""Running an experiment's aggregator: the use case behind ``medval aggregator start``.

On the aggregator's machine, as its owner: the experiment must be approved; the machine
makes its own server key (owner-only, kept in the work folder) and has the experiment's CA
certify it for the aggregator's registered address; the training cube is fetched, its hash
checked, and Flower's FAB built from it; then :class:`medval.training.aggregator.Aggregator`
runs Flower's SuperLink behind the fleet gate. While the run goes on, the sites the server
lists as admitted (approved, within their data policy) are registered at the SuperLink
every few seconds, and the others removed, so an approval or a revocation takes effect
within one period. At the end, each round's aggregated metrics go to the server; when the
caller is the training owner, the final model is registered as a model cube (from the
training cube's ``model-cube`` template) and named the experiment's final model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import register_cube
from medval.client.training_cubes import unpacked_training_cube
from medval.client.training_experiments import find_experiment
from medval.core.errors import InvalidInput, MedvalError
from medval.core.private_files import private_folder, write_private
from medval.core.schemas import CubePublic
from medval.core.states import ApprovalStatus, CubeKind
from medval.core.training_schemas import RoundMetricsCreate, TrainingExperimentPublic
from medval.training.aggregator import Aggregator, AggregatorSettings
from medval.training.app import build_fab
from medval.training.ca import check_key_pair, check_server_certificate, new_server_key_and_csr
from medval.training.flower_env import find_flower
from medval.training.model_cube import model_cube_from_final_model
from medval.training.progress import ProgressEvent, RoundMetrics
from medval.training.training_run import PinnedFab, TrainingOutcome

Say = Callable[[str], None]
SYNC_SECONDS = 5.0


@dataclass(frozen=True)
class AggregatorRun:
    experiment: TrainingExperimentPublic
    outcome: TrainingOutcome
    final_model: CubePublic | None


def start_aggregator(
    client: MedvalClient,
    executor: Executor,
    reference: str,
    workdir: Path,
    say: Say,
    sync_seconds: float = SYNC_SECONDS,
    timeout_seconds: float | None = None,
) -> AggregatorRun:
    experiment = find_experiment(client, reference)
    if experiment.approval is not ApprovalStatus.APPROVED:
        raise InvalidInput(
            f"training experiment {experiment.name} is {experiment.approval.value}: it runs "
            "once an admin approves it (medval training approve)"
        )
    aggregator = client.training.aggregator(experiment.aggregator_id)
    host = f"[{aggregator.address}]" if ":" in aggregator.address else aggregator.address
    address = f"{host}:{aggregator.port}"
    folder = workdir / f"experiment-{experiment.id}"
    ca_pem = experiment.ca_certificate_pem.encode("ascii")
    key_pem, cert_pem = _server_credentials(client, experiment, folder, ca_pem, address, say)
    flower = find_flower()
    cube = client.cube(experiment.training_cube_id)
    with unpacked_training_cube(executor, cube) as (app_dir, _):
        built = build_fab(app_dir, folder / "fab", flower)
        say(f"training cube {cube.name}: hash checked; Flower app bundle {built.sha256[:12]}")
        settings = AggregatorSettings(folder / "flower", ca_pem, cert_pem, key_pem, address)
        with Aggregator(settings, flower) as running:
            say(f"aggregator listening at {address} (only Flower's Fleet API, over TLS)")
            stop = threading.Event()
            syncing = threading.Thread(
                target=_keep_sites_in_step,
                args=(client, experiment.id, running, sync_seconds, stop, say),
                daemon=True,
            )
            _sync_sites(client, experiment.id, running, say)
            syncing.start()
            try:
                outcome = running.run(
                    experiment.plan,
                    PinnedFab(built.path, built.sha256),
                    lambda event: _say_progress(event, say),
                    timeout_seconds,
                )
            finally:
                stop.set()
                syncing.join(timeout=sync_seconds + 30)
        for metrics in outcome.rounds:
            client.training.report_round(experiment.id, _round_body(metrics))
        say(f"{len(outcome.rounds)} rounds' aggregated metrics sent to the server")
        final = _register_final_model(client, experiment, app_dir, outcome, folder, say)
    return AggregatorRun(experiment, outcome, final)


def _server_credentials(
    client: MedvalClient,
    experiment: TrainingExperimentPublic,
    folder: Path,
    ca_pem: bytes,
    address: str,
    say: Say,
) -> tuple[bytes, bytes]:
    """This machine's server key and the CA's certificate for it: the ones kept from an
    earlier start when they still match, else a new key certified by the server."""
    key_path, cert_path = folder / "server.key", folder / "server.pem"
    if key_path.is_file() and cert_path.is_file():
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        try:
            check_server_certificate(ca_pem, cert_pem, address)
            check_key_pair(cert_pem, key_pem)
            return key_pem, cert_pem
        except MedvalError as error:
            say(f"the kept server certificate is not usable ({error}); asking for a new one")
    key_pem, csr_pem = new_server_key_and_csr(address)
    private_folder(folder)
    issued = client.training.certify_aggregator(experiment.id, csr_pem.decode("ascii"))
    cert_pem = issued.certificate_pem.encode("ascii")
    check_server_certificate(ca_pem, cert_pem, address)
    write_private(key_path, key_pem.decode("ascii"))
    cert_path.write_bytes(cert_pem)
    say(f"server certificate issued by experiment {experiment.name}'s CA for {address}")
    return key_pem, cert_pem


def _sync_sites(client: MedvalClient, experiment_id: int, running: Aggregator, say: Say) -> None:
    nodes = client.training.nodes(experiment_id)
    approved = {node.dataset: node.node_public_key for node in nodes if node.admitted}
    revoked = [node.dataset for node in nodes if not node.admitted]
    before = set(running.admitted_sites())
    running.sync_nodes(approved, revoked)
    after = set(running.admitted_sites())
    for name in sorted(after - before):
        say(f"site {name} admitted")
    for name in sorted(before - after):
        say(f"site {name} removed (no longer approved)")


def _keep_sites_in_step(
    client: MedvalClient,
    experiment_id: int,
    running: Aggregator,
    period: float,
    stop: threading.Event,
    say: Say,
) -> None:
    while not stop.wait(period):
        try:
            _sync_sites(client, experiment_id, running, say)
        except MedvalError as error:
            # The run goes on with the sites already admitted; the next period tries again.
            say(f"could not bring the sites in step with the server: {error}")


def _say_progress(event: ProgressEvent, say: Say) -> None:
    say(event.line())


def _round_body(metrics: RoundMetrics) -> RoundMetricsCreate:
    values: dict[str, int | float] = {}
    for prefix, record in (
        ("train", metrics.train),
        ("evaluate", metrics.evaluate),
        ("server", metrics.server_evaluate),
    ):
        for name, value in record.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[f"{prefix}.{name}"[:80]] = value
    values["train.replies"] = metrics.train_replies
    values["train.failures"] = metrics.train_failures
    return RoundMetricsCreate(round=metrics.round, metrics=values)


def _register_final_model(
    client: MedvalClient,
    experiment: TrainingExperimentPublic,
    app_dir: Path,
    outcome: TrainingOutcome,
    folder: Path,
    say: Say,
) -> CubePublic | None:
    if client.me().id != experiment.owner_id:
        say(
            f"final model kept at {outcome.final_model}: the training owner "
            f"({experiment.owner}) registers it"
        )
        return None
    cube_folder = model_cube_from_final_model(
        app_dir, outcome.final_model, folder / "final-model-cube"
    )
    name = f"{experiment.name}-final"
    cube = register_cube(client, cube_folder, name=name, expected_kind=CubeKind.MODEL)
    client.training.set_final_model(experiment.id, cube.id)
    say(f"final model registered as model cube {cube.name} (id {cube.id}, {cube.archive_hash})")
    return cube
