"""Who the aggregator and the sites of an experiment trust, and how the server says so.

The experiment's CA (made at registration) certifies the aggregator: its owner sends a
certificate signing request once the experiment is approved, and gets a certificate for
the address the aggregator is registered with (``medval.training.ca``). Sites trust the
aggregator by the CA's certificate (public). The aggregator admits sites by their node
keys: ``training_nodes`` lists those of approved associations whose policy lets them
train today (admitted), and those it must remove (revoked, or no longer admitted).
"""

from __future__ import annotations

from datetime import date

from medval.core.errors import InvalidTransition, PermissionDenied
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import ApprovalStatus, check_valid
from medval.core.training_schemas import (
    AggregatorCertificatePublic,
    TrainingCAPublic,
    TrainingNodePublic,
)
from medval.server.services.aggregators import existing_aggregator
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import is_owner_or_admin, not_found, require_owner
from medval.server.services.training_associations import policy_refusal
from medval.server.services.training_experiments import (
    require_experiment_runs,
    visible_experiment,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    TrainingAssociationRecord,
    TrainingExperimentRecord,
    UserRecord,
)
from medval.training.ca import ExperimentCA, issue_server_certificate


def experiment_ca(ctx: ServiceContext, caller: UserRecord, experiment_id: int) -> TrainingCAPublic:
    with ctx.store.transaction() as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
    return TrainingCAPublic(
        experiment_id=experiment.id,
        experiment=experiment.name,
        certificate_pem=experiment.ca_certificate_pem,
    )


def certify_aggregator(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, csr_pem: str
) -> AggregatorCertificatePublic:
    """The aggregator's owner (only they: it is their machine's key) gets a certificate
    for the aggregator's registered address; a new request replaces the one before."""
    with ctx.transaction(caller) as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        aggregator = existing_aggregator(tx, experiment.aggregator_id)
        require_owner(
            caller, aggregator.owner_id, f"aggregator {aggregator.name}", "ask for its certificate"
        )
        if experiment.approval is not ApprovalStatus.APPROVED:
            raise InvalidTransition(
                f"training experiment {experiment.name} is {experiment.approval.value}; its "
                "aggregator is certified once an admin approves it"
            )
        require_experiment_runs(tx, experiment)
        key = tx.training_ca_key(experiment.id)
        if key is None:
            raise not_found("training experiment", experiment_id)
        ca = ExperimentCA(key.encode("ascii"), experiment.ca_certificate_pem.encode("ascii"))
        certificate = issue_server_certificate(ca, csr_pem.encode("ascii"), aggregator.address)
        certified = tx.set_aggregator_certificate(experiment.id, certificate.decode("ascii"))
    return AggregatorCertificatePublic(
        experiment_id=certified.id,
        address=aggregator.address,
        port=aggregator.port,
        certificate_pem=certificate.decode("ascii"),
        ca_certificate_pem=certified.ca_certificate_pem,
    )


def training_nodes(
    ctx: ServiceContext, caller: UserRecord, experiment_id: int, page: PageRequest = EVERYTHING
) -> Page[TrainingNodePublic]:
    """The node keys the aggregator must know: admitted ones, and the ones to remove; by
    association id."""
    with ctx.store.transaction() as tx:
        experiment = visible_experiment(tx, caller, experiment_id)
        allowed = is_owner_or_admin(caller, experiment.owner_id)
        if not (allowed or caller.id == experiment.aggregator_owner_id):
            raise PermissionDenied(
                f"only the training owner of {experiment.name} and its aggregator's owner "
                "(or an admin) may see its nodes"
            )
        today = ctx.clock().date()
        found = visible_page(
            page,
            lambda after, n: tx.list_training_associations(experiment.id, after=after, limit=n),
            by_id,
            lambda a: a.status in (ApprovalStatus.APPROVED, ApprovalStatus.REVOKED),
        )
        return found.map(lambda a: _node(tx, experiment, a, today))


def _node(
    tx: StoreTransaction,
    experiment: TrainingExperimentRecord,
    association: TrainingAssociationRecord,
    today: date,
) -> TrainingNodePublic:
    why: str | None
    if association.status is ApprovalStatus.REVOKED:
        why = "the association was revoked"
    else:
        why = _blocker(tx, experiment, association, today)
    return TrainingNodePublic(
        association_id=association.id,
        dataset_id=association.dataset_id,
        dataset=association.dataset,
        status=association.status,
        node_public_key=association.node_public_key,
        admitted=why is None,
        refusal=why,
    )


def _blocker(
    tx: StoreTransaction,
    experiment: TrainingExperimentRecord,
    association: TrainingAssociationRecord,
    today: date,
) -> str | None:
    """Why an approved site may not train today (its dataset invalidated, or its policy
    refusing it now, e.g. expired), or None."""
    dataset = tx.dataset(association.dataset_id)
    if dataset is not None:
        try:
            check_valid(f"dataset {dataset.name} ({dataset.id})", dataset)
        except InvalidTransition as exc:
            return exc.message
    return policy_refusal(tx, experiment, association.dataset_id, association.policy, today)
