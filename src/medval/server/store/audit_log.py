"""The server's audit log, kept by the store: every change of an entity becomes an entry.

``SqlTransaction`` calls ``touch`` for each row it adds or changes (in ``_insert`` and
``_change``, which every write goes through) and ``record`` for a change that is not a
row (a blob); when the use case's transaction ends well, ``append_entries`` chains one
entry per change (``medval.trust.audit_chain``) in the same transaction, so an entity's
change and its entry commit together or not at all. Services cannot forget it: they
never write rows themselves.

An entity's hash is of its ``XPublic`` form (what the API shows), before the change and
after it (taken when it is changed again in the same transaction, or at the end).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from medval.core.attestation_schemas import AttestationNoncePublic, AttestationPinsPublic
from medval.core.membership_schemas import AgreementAcceptancePublic
from medval.core.model_key_schemas import EncryptionKeyPublic, WrappedModelKeyPublic
from medval.core.participation_schemas import ExpectedSitePublic
from medval.core.phases import PhasePublic
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
from medval.core.training_schemas import (
    AggregatorPublic,
    RoundMetricsPublic,
    SiteRoundMetricsPublic,
    TrainingAssociationPublic,
    TrainingExperimentPublic,
)
from medval.server.store import attestation_models as at
from medval.server.store import model_key_models as k
from medval.server.store import models as m
from medval.server.store import participation_models as pa
from medval.server.store import phase_models as p
from medval.server.store import preparation_report_models as pr
from medval.server.store import training_models as t
from medval.server.store.interface import Actor
from medval.trust.audit_chain import GENESIS_HASH, ChainHead, head_after, next_entry, public_hash

# The rows that are entities the log speaks of: their kind and the form their hash is of.
AUDITED: dict[type[m.Base], tuple[str, type[BaseModel]]] = {
    m.User: ("user", UserPublic),
    m.Cube: ("cube", CubePublic),
    m.Benchmark: ("benchmark", BenchmarkPublic),
    m.Dataset: ("dataset", DatasetPublic),
    m.Association: ("association", AssociationPublic),
    m.Result: ("result", ResultPublic),
    m.AgreementAcceptance: ("agreement_acceptance", AgreementAcceptancePublic),
    p.Phase: ("phase", PhasePublic),
    p.CountingEntry: ("counting_entry", CountingEntryPublic),
    m.SigningKey: ("signing_key", SigningKeyPublic),
    k.EncryptionKey: ("encryption_key", EncryptionKeyPublic),
    # A wrapped key is opaque (only its recipient opens it): its grant, withholding and
    # deletion are logged like any change, hashed over that opaque form.
    k.WrappedModelKey: ("wrapped_model_key", WrappedModelKeyPublic),
    at.AttestationPins: ("attestation_pins", AttestationPinsPublic),
    # A nonce's issue to a site, and its spending by the release of the site's key.
    at.AttestationNonce: ("attestation_nonce", AttestationNoncePublic),
    pr.PreparationReport: ("preparation_report", PreparationReportPublic),
    pa.ExpectedSite: ("expected_site", ExpectedSitePublic),
    t.Aggregator: ("aggregator", AggregatorPublic),
    t.TrainingExperiment: ("training", TrainingExperimentPublic),
    t.TrainingAssociation: ("training_association", TrainingAssociationPublic),
    t.TrainingRound: ("training_round", RoundMetricsPublic),
    t.SiteTrainingRound: ("site_training_round", SiteRoundMetricsPublic),
}
_HEAD_ID = 1


@dataclass
class _Change:
    entity_kind: str
    entity_id: str
    action: str
    before_hash: str | None
    after_hash: str | None = None
    row: m.Base | None = None  # while open: the row whose hash at the end is ``after_hash``


class AuditLog:
    """The changes of one transaction, appended to the log when it ends well."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._changes: list[_Change] = []
        self._open: dict[tuple[str, str], _Change] = {}

    def touch(self, row: m.Base, action: str, *, new: bool = False) -> None:
        """``row`` is about to change by ``action`` (or was just added, ``new``)."""
        audited = AUDITED.get(type(row))
        if audited is None:
            return
        kind, _ = audited
        entity_id = str(row.id)  # type: ignore[attr-defined]  # every audited row has one
        now_hash = None if new else self._hash(row)
        earlier = self._open.pop((kind, entity_id), None)
        if earlier is not None:
            earlier.after_hash, earlier.row = now_hash, None
        change = _Change(kind, entity_id, f"{kind}.{action}", now_hash, row=row)
        self._changes.append(change)
        self._open[(kind, entity_id)] = change

    def record(
        self,
        entity_kind: str,
        entity_id: str,
        action: str,
        before_hash: str | None,
        after_hash: str | None,
    ) -> None:
        """A change of something that is not a row (a blob): its hashes as given."""
        self._changes.append(
            _Change(entity_kind, entity_id, f"{entity_kind}.{action}", before_hash, after_hash)
        )

    def _hash(self, row: m.Base) -> str | None:
        _, shown = AUDITED[type(row)]
        return public_hash(shown.model_validate(row))

    def _closed(self) -> list[_Change]:
        self.session.flush()
        for change in self._changes:
            if change.row is None:
                continue
            state = inspect(change.row)
            if state.deleted or state.detached:
                change.after_hash = None  # deleted: it has no after
            else:
                self.session.refresh(change.row)  # relationships too (an association's history)
                change.after_hash = self._hash(change.row)
            change.row = None
        return self._changes

    def append_entries(self) -> None:
        """Chain this transaction's changes onto the log, inside the transaction.

        Concurrent appends are serialized on the head row: the first statement moves it
        (``size = size + n``), which takes its row lock on PostgreSQL (a second append
        waits on that UPDATE until the first commits, then re-reads the row it left,
        READ COMMITTED's rule for UPDATE) and the database's write lock on SQLite (one
        writer at a time; the busy timeout makes the second wait). Only then is the head
        read, so each append chains to the entry the previous one left. And ``seq`` is
        the primary key: two appends could never both take the same place, whatever the
        isolation level; the loser's transaction would fail whole rather than fork.
        """
        changes = self._closed()
        if not changes:
            return
        head = self._reserve(len(changes))
        for change in changes:
            entry = next_entry(
                head,
                at=self.actor.at,
                actor=self.actor.name,
                action=change.action,
                entity_kind=change.entity_kind,
                entity_id=change.entity_id,
                before_hash=change.before_hash,
                after_hash=change.after_hash,
            )
            self.session.add(m.AuditEntry(**entry.model_dump()))
            head = head_after(entry)
        self.session.execute(
            update(m.AuditHead).where(m.AuditHead.id == _HEAD_ID).values(last_hash=head.last_hash)
        )
        self.session.flush()
        self._changes, self._open = [], {}

    def _reserve(self, n: int) -> ChainHead:
        """Lock the head, move it on by ``n`` places and return where it was."""
        moved = self.session.execute(
            update(m.AuditHead).where(m.AuditHead.id == _HEAD_ID).values(size=m.AuditHead.size + n)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            # Migration 0005 makes the row; a database made otherwise gets it here.
            self.session.add(m.AuditHead(id=_HEAD_ID, size=n, last_hash=GENESIS_HASH))
            self.session.flush()
        size, last_hash = self.session.execute(
            select(m.AuditHead.size, m.AuditHead.last_hash).where(m.AuditHead.id == _HEAD_ID)
        ).one()
        return ChainHead(size - n, last_hash)

    def head(self) -> ChainHead:
        found = self.session.execute(
            select(m.AuditHead.size, m.AuditHead.last_hash).where(m.AuditHead.id == _HEAD_ID)
        ).one_or_none()
        return ChainHead(found[0], found[1]) if found else ChainHead(0, GENESIS_HASH)
