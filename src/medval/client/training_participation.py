"""A hospital takes part in a training experiment: the use case behind ``medval training run``.

Two steps, so that every face can show the briefing and ask in its own way:

1. :func:`brief` checks everything that can be checked before anything runs — the
   experiment approved, this dataset's association approved and allowed by the data
   owner's own policy, the node key kept here matching the one the association names, the
   prepared data unchanged since it was hashed, the training cube's hash — builds Flower's
   app bundle from the verified cube (the ClientApp will be refused unless the aggregator
   sends exactly this bundle), and says what will run and what will leave.
2. :func:`train` records the data owner's approval in the local audit log and runs the
   site (:mod:`medval.training.site`): Flower's SuperNode connects to the aggregator, and
   each ClientApp runs in the sandbox with only the prepared data, read-only; the site's
   own metrics of each round go to the server as they come
   (:mod:`medval.client.training_site_rounds`). It returns when the experiment has all
   its rounds on the server, or on Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medval.client.audit_log import record
from medval.client.datasets import prepared_folders, verify_prepared
from medval.client.execution import Executor
from medval.client.settings import ClientSettings
from medval.client.training_cubes import unpacked_training_cube
from medval.client.training_experiments import find_experiment
from medval.client.training_site_rounds import SiteRounds
from medval.client.training_sites import dataset_id_of, node_key_path, site_of
from medval.core.errors import (
    HashMismatch,
    InvalidInput,
    NotFound,
    PolicyRefused,
    ServerUnavailable,
)
from medval.core.pauses import pause
from medval.core.schemas import CubePublic
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import TrainingAssociationPublic, TrainingExperimentPublic
from medval.core.training_small_cells import training_min_cell_count
from medval.training.app import build_fab
from medval.training.ca import check_node_public_key, public_key_of
from medval.training.flower_env import find_flower
from medval.training.privacy import privacy_lines
from medval.training.site import Site, SiteSetup
from medval.training.site_progress import ProgressKind, SiteProgress
from medval.trust.data_policy import Execution, refusal

Say = Callable[[str], None]
# How often the site asks the server whether the experiment has all its rounds.
POLL_SECONDS = 10.0
# How long a site keeps trying to join: the aggregator may start later than the site, and
# admits a newly approved site within its next check of the server.
JOIN_TIMEOUT_SECONDS = 600.0
JOIN_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class SiteBriefing:
    """What a data owner approves: the lines shown, and what the site will run with."""

    experiment: TrainingExperimentPublic
    association: TrainingAssociationPublic
    training_cube: CubePublic
    fab_sha256: str
    aggregator_address: str
    data: Path
    labels: Path
    node_key: Path
    lines: list[str]


@contextmanager
def brief(
    executor: Executor,
    settings: ClientSettings,
    username: str,
    experiment_reference: str,
    dataset_reference: str,
    workdir: Path,
) -> Iterator[SiteBriefing]:
    client = executor.client
    experiment = find_experiment(client, experiment_reference)
    if experiment.approval is not ApprovalStatus.APPROVED:
        raise InvalidInput(
            f"training experiment {experiment.name} is {experiment.approval.value}: sites "
            "train once an admin approves it"
        )
    dataset_id = dataset_id_of(executor.workspace, dataset_reference)
    association = site_of(client, experiment, str(dataset_id))
    if association.status is not ApprovalStatus.APPROVED:
        raise InvalidInput(
            f"dataset {association.dataset} is {association.status.value} in training "
            f"experiment {experiment.name}: its training owner ({experiment.owner}) approves "
            "it first"
        )
    refused = refusal(
        association.policy,
        Execution(experiment.training_cube_id, experiment.owner, dataset_id, 0),
        datetime.now(UTC).date(),
    )
    if refused is not None:
        raise PolicyRefused(refused)
    local = executor.workspace.dataset_by_server_id(dataset_id)
    if local is None:
        raise NotFound(
            f"dataset {association.dataset} was not prepared in this workspace "
            f"({executor.workspace.home})"
        )
    preparator = client.cube(experiment.data_preparator_id)
    if preparator.archive_hash != local.data_preparator_hash:
        raise HashMismatch(
            f"dataset {local.name} was prepared with another preparation cube than "
            f"training experiment {experiment.name} uses; prepare it again"
        )
    key_path = node_key_path(settings, username, experiment.id, dataset_id)
    if not key_path.is_file():
        raise NotFound(
            f"no node key for dataset {local.name} in experiment {experiment.name} here "
            f"({key_path}); it was made by 'medval training join' on another machine"
        )
    if public_key_of(key_path.read_bytes()) != check_node_public_key(association.node_public_key):
        raise InvalidInput(
            f"the node key at {key_path} is not the one dataset {local.name}'s association "
            "names; join again with --new-key"
        )
    verify_prepared(executor, local)
    aggregator = client.training.aggregator(experiment.aggregator_id)
    host = f"[{aggregator.address}]" if ":" in aggregator.address else aggregator.address
    address = f"{host}:{aggregator.port}"
    cube = client.cube(experiment.training_cube_id)
    with unpacked_training_cube(executor, cube) as (app_dir, _):
        built = build_fab(app_dir, workdir / "fab", find_flower())
    plan = experiment.plan
    lines = [
        f"training experiment {experiment.name} (id {experiment.id}), owner {experiment.owner}",
        f"runs: the ClientApp of training cube {cube.name} ({cube.archive_hash}), "
        f"Flower app bundle {built.sha256}, in the {executor.runner.kind} sandbox with "
        f"dataset {local.name} read-only and no network but its local SuperNode",
        f"plan: {plan.rounds} rounds of {plan.strategy.value}, {plan.local_epochs} local "
        f"epoch(s), at least {plan.min_sites} sites, seed {plan.seed}",
        *privacy_lines(plan),
        f"leaves: model updates (weights) and the training metrics the app reports, to the "
        f"aggregator at {address}, over TLS checked against experiment {experiment.name}'s "
        "CA; never the data, its labels or per-case predictions",
        f"leaves too: this site's own metrics of each round (train.* and evaluate.*, none "
        f"from a reply on fewer than {training_min_cell_count(executor.local_min_cell_count)} "
        "examples), to medval's server, seen only by you, the training owner and admins",
    ]
    yield SiteBriefing(
        experiment,
        association,
        cube,
        built.sha256,
        address,
        *prepared_folders(executor, local),
        key_path,
        lines,
    )


def train(
    executor: Executor,
    briefing: SiteBriefing,
    workdir: Path,
    say: Say,
    poll_seconds: float = POLL_SECONDS,
    join_timeout_seconds: float = JOIN_TIMEOUT_SECONDS,
) -> int:
    """Run the site until the experiment has all its rounds on the server (or Ctrl-C);
    the number of rounds recorded there."""
    experiment = briefing.experiment
    record(
        executor.audit, "approve", "training", f"{experiment.id}:{briefing.association.id}",
        briefing.association,
    )  # fmt: skip
    ca = workdir / "experiment-ca.pem"
    workdir.mkdir(parents=True, exist_ok=True)
    ca.write_text(experiment.ca_certificate_pem, encoding="ascii")
    setup = SiteSetup(
        workdir=workdir / "site",
        aggregator=briefing.aggregator_address,
        ca_certificate=ca,
        node_private_key=briefing.node_key.read_bytes(),
        dataset=briefing.data,
        labels=briefing.labels,
        training_app_sha256=briefing.fab_sha256,
        runner=executor.runner,
    )

    def progress(event: SiteProgress) -> None:
        say(event.text)
        if event.kind is ProgressKind.REPLY_METRICS:
            site_rounds.take(event)

    site_rounds = SiteRounds(
        executor.client.training,
        experiment.id,
        briefing.association.dataset_id,
        training_min_cell_count(executor.local_min_cell_count),
        progress,
    )
    site = Site(setup, progress)
    rounds = 0
    try:
        _join(site, briefing.aggregator_address, join_timeout_seconds, say)
        while site.running():
            pause(poll_seconds)  # not time.sleep: a Ctrl-C must not wait out the poll
            recorded = executor.client.training.rounds(experiment.id)
            rounds = max((r.round for r in recorded), default=0)
            if rounds >= experiment.plan.rounds:
                say(f"training experiment {experiment.name} finished its {rounds} rounds")
                break
    except KeyboardInterrupt:
        say("interrupted: leaving the experiment (run the same command to rejoin)")
    finally:
        site.stop()
        site_rounds.flush()
    return rounds


def _join(site: Site, address: str, timeout_seconds: float, say: Say) -> None:
    """Start the site and wait until the aggregator admits it, starting it again while
    it is refused (not admitted yet, or still seen online after a crash) or unreachable,
    until ``timeout_seconds``; then the last reason, in one line."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        site.start()
        try:
            site.wait_connected(max(1.0, deadline - time.monotonic()))
        except ServerUnavailable as refused:
            site.stop()
            if time.monotonic() + JOIN_RETRY_SECONDS >= deadline:
                raise
            say(f"{refused}; trying again in {JOIN_RETRY_SECONDS:g} s")
            pause(JOIN_RETRY_SECONDS)
            continue
        say(f"joined: the aggregator at {address} admitted this site")
        return
