"""What the store hands back: each entity as the API shows it, read straight from its row.

A record *is* the core's ``XPublic`` schema (the API contract, written once in
``medval.core.schemas``), frozen because services never change what they read, and
extended only by the few ids that the services' rules need but the API does not show.
The store validates records from ORM rows with pydantic's ``from_attributes``: a field
is read from the row attribute of the same name (``models`` resolves names such as
``owner`` there). So the fields are never listed a second time, and a column added to the
ORM model and to the schema reaches services and routes with no code in between.

Routes return records where the API promises an ``XPublic``; FastAPI serializes them by
the promised schema, so the extra ids below never reach the wire. Never add a secret
here: the password hash stays in the store (``StoreTransaction.password_hash``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from pydantic import TypeAdapter

from medval.core.attestation_schemas import AttestationNoncePublic, AttestationPinsPublic
from medval.core.documents import ResultDocument
from medval.core.membership_schemas import AgreementAcceptancePublic, DataPolicy
from medval.core.model_key_schemas import EncryptionKeyPublic, WrappedModelKeyPublic
from medval.core.participation_schemas import ExpectedSitePublic
from medval.core.phases import PhasePublic, ResultPublication
from medval.core.preparation_report import PreparationReportPublic
from medval.core.quotas import CountingEntryPublic
from medval.core.result_schemas import ResultPublic
from medval.core.schemas import (
    AssociationPublic,
    BenchmarkPublic,
    CubePublic,
    DatasetPublic,
    SigningKeyPublic,
    UserPublic,
)
from medval.core.states import ApprovalStatus
from medval.core.training_schemas import (
    AggregatorPublic,
    RoundMetricsPublic,
    SiteRoundMetricsPublic,
    TrainingAssociationPublic,
    TrainingExperimentPublic,
)


class UserRecord(UserPublic, frozen=True):
    """An account, without its password hash."""


class SigningKeyRecord(SigningKeyPublic, frozen=True):
    id: int  # the list's sort key (the API names a key by its key_id)


class EncryptionKeyRecord(EncryptionKeyPublic, frozen=True):
    id: int  # the list's sort key (the API names a key by its key_id)


class WrappedModelKeyRecord(WrappedModelKeyPublic, frozen=True):
    """Opaque to the server: only the recipient's private key opens ``wrapped_key``."""

    id: int  # the list's sort key
    recipient_id: int


class AttestationPinsRecord(AttestationPinsPublic, frozen=True):
    id: int


class AttestationNonceRecord(AttestationNoncePublic, frozen=True):
    """Only its site sees a nonce; who it was issued to is the verifier's business."""

    id: int
    recipient_id: int
    issued_at: datetime


class PreparationReportRecord(PreparationReportPublic, frozen=True):
    """Counts only: a report never names a case."""


class CubeRecord(CubePublic, frozen=True):
    @property
    def blob_hashes(self) -> frozenset[str]:
        """The blobs this cube holds on the server: its archive and its image archive (a
        private model's sealed ones only: the server never holds them in clear)."""
        if self.sealed is None:
            return frozenset(h for h in (self.archive_hash, self.image_archive_hash) if h)
        image = self.sealed.image_sealed_hash or self.image_archive_hash
        return frozenset(h for h in (self.sealed.sealed_hash, image) if h is not None)


class BenchmarkRecord(BenchmarkPublic, frozen=True):
    pass


class DatasetRecord(DatasetPublic, frozen=True):
    pass


class PhaseRecord(PhasePublic, frozen=True):
    pass


class CountingEntryRecord(CountingEntryPublic, frozen=True):
    id: int  # the list's sort key
    owner_id: int


class AgreementAcceptanceRecord(AgreementAcceptancePublic, frozen=True):
    id: int  # the list's sort key
    user_id: int


class AssociationRecord(AssociationPublic, frozen=True):
    entity_owner_id: int  # who may see it, and who counts as a participant
    initiated_by_id: int  # four eyes: whoever asked may not approve


@dataclass(frozen=True)
class AssociationStanding:
    """Where an entity stands on a benchmark, as an upload asks it
    (``StoreTransaction.association_standing``): its association's status and the data
    owner's policy, read as two columns, not a whole record with its history."""

    status: ApprovalStatus
    policy: DataPolicy


class ExpectedSiteRecord(ExpectedSitePublic, frozen=True):
    user_id: int | None  # a user row's account
    institution: str | None  # an institution row's name


class ResultRecord(ResultPublic, frozen=True):
    # Per-site results are released to these owners (services.release).
    dataset_owner_id: int
    model_owner_id: int


_DOCUMENT: TypeAdapter[ResultDocument] = TypeAdapter(ResultDocument)


@dataclass(frozen=True)
class LeaderboardRow:
    """A result as the leaderboard reads it: only what it shows and releases by, read as
    columns (``StoreTransaction.leaderboard_rows``), not as a whole record: a board of
    1,000 sites x 50 models reads 50,000 of them. Its document is kept as the stored JSON
    text and validated when first asked for: a board pools again only the models whose
    results changed (``services.pooled_board``), and tells which by that text."""

    model_id: int
    model: str
    dataset_id: int
    dataset: str
    dataset_owner_id: int
    model_owner_id: int
    document_json: str | None  # None: the execution failed

    @property
    def publication(self) -> ResultPublication:
        """A board reads only results released by the release policy (automatic or
        published alike: the same rules apply to both)."""
        return ResultPublication.AUTOMATIC

    @cached_property
    def document(self) -> ResultDocument | None:
        """The document, validated from its JSON text, as the JSON column type would."""
        if self.document_json is None:
            return None
        return _DOCUMENT.validate_json(self.document_json)


# --- federated training ---------------------------------------------------------------


class AggregatorRecord(AggregatorPublic, frozen=True):
    pass


class TrainingExperimentRecord(TrainingExperimentPublic, frozen=True):
    """Never the CA's key: that is ``StoreTransaction.training_ca_key``."""

    aggregator_owner_id: int  # may ask for the aggregator's certificate, see the nodes


class TrainingAssociationRecord(TrainingAssociationPublic, frozen=True):
    dataset_owner_id: int  # asks, may revoke, sets the policy
    initiated_by_id: int  # four eyes: whoever asked may not approve


class RoundMetricsRecord(RoundMetricsPublic, frozen=True):
    pass


class SiteRoundMetricsRecord(SiteRoundMetricsPublic, frozen=True):
    dataset_owner_id: int  # with the training owner, the only one who sees them


@dataclass(frozen=True)
class TokenRecord:
    user: UserRecord
    expires_at: datetime
