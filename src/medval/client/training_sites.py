"""Sites of a training experiment from the client's side: a data owner's dataset joins
with a node key made here; the training owner (or either side, to revoke) decides on
it by experiment and dataset. Every face calls these.

Each (experiment, dataset) has its own node key, an ECDSA key made by
``medval.training.ca.new_node_key``. Its private key never leaves this machine::

    <home>/keys/<username>/nodes/experiment-<E>-dataset-<D>.pem   the private key (0600)
    <home>/keys/<username>/nodes/experiment-<E>-dataset-<D>.pub   its public key (OpenSSH)

(folders 0700), which is what Flower's SuperNode is started with
(``--auth-supernode-private-key``). Asking again (after a rejection or a revocation)
sends the same key, unless a new one is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medval.client.data_policies import updated_policy
from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings
from medval.client.signing import key_folder
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput, NotFound
from medval.core.private_files import private_folder, write_private
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    TrainingAssociationCreate,
    TrainingAssociationPublic,
    TrainingExperimentPublic,
)
from medval.training.ca import new_node_key


@dataclass(frozen=True)
class NodeKey:
    private_key: Path  # the PEM file
    public_key: str  # OpenSSH text
    made: bool  # made now


def node_key_path(
    settings: ClientSettings, username: str, experiment_id: int, dataset_id: int
) -> Path:
    """Where the node key of ``dataset_id`` on ``experiment_id`` is kept (its private
    key; the public key is beside it, with ``.pub``)."""
    name = f"experiment-{experiment_id}-dataset-{dataset_id}.pem"
    return key_folder(settings, username) / "nodes" / name


def ensure_node_key(
    settings: ClientSettings,
    username: str,
    experiment_id: int,
    dataset_id: int,
    new: bool = False,
) -> NodeKey:
    """The node key kept here, or a new one (when there is none, or ``new``), written
    owner-only before it is used anywhere."""
    path = node_key_path(settings, username, experiment_id, dataset_id)
    public = path.with_suffix(".pub")
    if not new and path.is_file() and public.is_file():
        return NodeKey(path, public.read_text(encoding="ascii").strip(), False)
    for folder in (path.parent.parent.parent, path.parent.parent, path.parent):
        private_folder(folder)
    private_pem, public_text = new_node_key()
    write_private(path, private_pem.decode("ascii"))
    write_private(public, public_text + "\n")
    return NodeKey(path, public_text, True)


def dataset_id_of(workspace: Workspace, reference: str) -> int:
    """A registered dataset's id: given as it is (digits), or a local dataset's name."""
    if reference.isdigit():
        return int(reference)
    dataset = workspace.dataset(reference)
    if dataset.server_id is None:
        raise InvalidInput(
            f"dataset {reference!r} is not registered; run 'medval dataset register'"
        )
    return dataset.server_id


@dataclass(frozen=True)
class Joined:
    association: TrainingAssociationPublic
    key: NodeKey


def join_experiment(
    client: MedvalClient,
    settings: ClientSettings,
    username: str,
    experiment: TrainingExperimentPublic,
    dataset_id: int,
    new_key: bool = False,
) -> Joined:
    """Ask for the dataset to join the experiment, with this site's node key."""
    key = ensure_node_key(settings, username, experiment.id, dataset_id, new_key)
    body = TrainingAssociationCreate(
        experiment_id=experiment.id, dataset_id=dataset_id, node_public_key=key.public_key
    )
    return Joined(client.training.request_association(body), key)


def site_of(
    client: MedvalClient, experiment: TrainingExperimentPublic, dataset: str
) -> TrainingAssociationPublic:
    """The association of ``dataset`` (its id, or its name when only one dataset of that
    name asked) with the experiment, as the caller may see it."""
    sites = client.training.associations(experiment_id=experiment.id)
    if dataset.isdigit():
        found = [s for s in sites if s.dataset_id == int(dataset)]
    else:
        found = [s for s in sites if s.dataset == dataset]
    if len(found) > 1:
        owners = ", ".join(f"{s.dataset_id} ({s.dataset_owner})" for s in found)
        raise InvalidInput(
            f"several datasets named {dataset!r} asked to join: {owners}; give its id"
        )
    if not found:
        raise NotFound(
            f"dataset {dataset} has not asked to join training experiment {experiment.name} "
            "(or you may not see it)"
        )
    return found[0]


def change_site_policy(
    client: MedvalClient,
    experiment: TrainingExperimentPublic,
    dataset: str,
    changes: dict[str, Any],
) -> TrainingAssociationPublic:
    """The data owner's policy on the dataset's association with the experiment, with
    ``changes`` (the clauses not named stay as they are)."""
    site = site_of(client, experiment, dataset)
    return client.training.set_association_policy(site.id, updated_policy(site.policy, changes))


def decide_site(
    client: MedvalClient,
    experiment: TrainingExperimentPublic,
    dataset: str,
    status: ApprovalStatus,
) -> TrainingAssociationPublic:
    site = site_of(client, experiment, dataset)
    if status is ApprovalStatus.REVOKED:
        return client.training.revoke_association(site.id)
    return client.training.decide_association(site.id, status)
