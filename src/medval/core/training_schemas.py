"""The HTTP API contract of federated training (issue 11), used by server and client.

The same families as ``schemas``: ``XCreate`` (a request body), ``XPublic`` (an answer).
An aggregator is a machine registered with its address; a training experiment names the
data-preparation cube, the training cube (a Flower app), the plan and the aggregator; a
training association is a dataset joining an experiment with its site's node key; round
metrics are what the aggregator (aggregated) and each site (its own) report.

The node key is checked (and normalized) by the server with ``medval.training.ca``: the
core does not import it, so the schema only bounds its shape. Imports only ``core``.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StrictFloat, StrictInt, StringConstraints

from medval.core.documents import no_nul
from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.schema_types import Id, Name, Schema, Text
from medval.core.schemas import AssociationEventPublic
from medval.core.states import ApprovalStatus
from medval.core.training_plan import TrainingPlan

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_address(value: str) -> str:
    """A host name (RFC 1123) or an IP address, as a certificate can name it; lower case."""
    text = value.strip().lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    if len(text) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{value[:100]!r} is neither a host name nor an IP address")
    return ".".join(labels)


Address = Annotated[str, StringConstraints(max_length=253), AfterValidator(check_address)]
Port = Annotated[int, Field(ge=1, le=65535)]
# PEM text (a certificate, a certificate request): ASCII, bounded.
PemText = Annotated[
    str, StringConstraints(min_length=1, max_length=16_000, pattern=r"^[\x09\x0a\x0d\x20-\x7e]+$")
]
# An ECDSA public key in OpenSSH's one-line form (checked whole by the server).
NodePublicKeyText = Annotated[
    str,
    StringConstraints(max_length=1000, pattern=r"^ecdsa-sha2-nistp(256|384|521) [A-Za-z0-9+/=]+"),
    AfterValidator(no_nul),
]
MetricName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")]


def _finite(value: int | float) -> int | float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


MetricNumber = Annotated[StrictInt | StrictFloat, AfterValidator(_finite)]
TrainingMetrics = Annotated[dict[MetricName, MetricNumber], Field(max_length=200)]
# Round 0 is the initial model (Flower evaluates it before the first round).
RoundNumber = Annotated[int, Field(ge=0, le=100_000)]


# --- aggregators ----------------------------------------------------------------------


class AggregatorCreate(Schema):
    """A machine that runs Flower's SuperLink for experiments: where sites connect."""

    name: Name
    address: Address
    port: Port


class AggregatorPublic(Schema):
    id: Id
    name: str
    owner_id: Id
    owner: str
    address: str
    port: int
    created_at: datetime


# --- training experiments -------------------------------------------------------------


class TrainingExperimentCreate(Schema):
    name: Name
    description: Text = ""
    data_preparator_id: Id
    training_cube_id: Id
    plan: TrainingPlan
    aggregator_id: Id
    auto_approval: AutoApprovalRule = Field(default_factory=AutoApprovalRule)


class TrainingExperimentPublic(Schema):
    """An experiment as everyone who may see it sees it. ``ca_certificate_pem`` is its
    CA's certificate (the CA's key never leaves the server); ``aggregator_certificate_pem``
    the certificate issued to its aggregator, once asked for."""

    id: Id
    name: str
    description: str
    owner_id: Id
    owner: str
    data_preparator_id: Id
    training_cube_id: Id
    plan: TrainingPlan
    aggregator_id: Id
    aggregator: str
    approval: ApprovalStatus
    auto_approval: AutoApprovalRule = Field(default_factory=AutoApprovalRule)
    ca_certificate_pem: str
    aggregator_certificate_pem: str | None = None
    final_model_id: Id | None = None
    created_at: datetime


class TrainingCAPublic(Schema):
    """The experiment CA's certificate: what sites trust the aggregator by."""

    experiment_id: Id
    experiment: str
    certificate_pem: str


class CertificateRequest(Schema):
    """The aggregator's certificate signing request (PEM), for its registered address."""

    csr_pem: PemText


class AggregatorCertificatePublic(Schema):
    experiment_id: Id
    address: str
    port: int
    certificate_pem: str
    ca_certificate_pem: str


class FinalModel(Schema):
    """The model cube the experiment produced (a model cube of the training owner's)."""

    model_id: Id


# --- training associations: a dataset joins an experiment ------------------------------


class TrainingAssociationCreate(Schema):
    """A data owner asks for a dataset of theirs to join, with the public key of the
    SuperNode that will train on it (its private key never leaves the site)."""

    experiment_id: Id
    dataset_id: Id
    node_public_key: NodePublicKeyText


class TrainingAssociationPublic(Schema):
    """As ``AssociationPublic``: its current state, and every move in ``history``."""

    id: Id
    experiment_id: Id
    dataset_id: Id
    dataset: str
    dataset_owner: str
    status: ApprovalStatus
    node_public_key: str
    initiated_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    history: list[AssociationEventPublic] = Field(default_factory=list)
    policy: DataPolicy = Field(default_factory=DataPolicy)


class TrainingNodePublic(Schema):
    """A site's node key as the aggregator needs it: ``admitted`` when its association is
    approved and its data policy lets it train now; a revoked (or no longer admitted)
    one is listed too, so that the aggregator removes it (``refusal`` says why)."""

    association_id: Id
    dataset_id: Id
    dataset: str
    status: ApprovalStatus
    node_public_key: str
    admitted: bool
    refusal: str | None = None


# --- round metrics ------------------------------------------------------------------


class RoundMetricsCreate(Schema):
    """The aggregated metrics of one round, as the aggregator reports them."""

    round: RoundNumber
    metrics: TrainingMetrics


class RoundMetricsPublic(Schema):
    id: Id
    experiment_id: Id
    round: int
    metrics: dict[str, float | int]
    uploaded_by: str
    created_at: datetime


class SiteRoundMetricsCreate(Schema):
    """One site's own metrics of one round, reported by the dataset's owner."""

    dataset_id: Id
    round: RoundNumber
    metrics: TrainingMetrics


class SiteRoundMetricsPublic(Schema):
    id: Id
    experiment_id: Id
    dataset_id: Id
    dataset: str
    round: int
    metrics: dict[str, float | int]
    uploaded_by: str
    created_at: datetime
