"""The store contract of the trust layer (membership rules and data policies, signing keys,
blob owners, attestation pins and nonces): every backend (file SQLite, PostgreSQL) must
pass all of these, as it passes ``test_store_contract``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.store.world import NOW, H, benchmark_world, make_cube, make_user

from medval.core.attestation_schemas import AttestationPinsCreate
from medval.core.errors import Conflict
from medval.core.membership_schemas import (
    AutoApprovalRule,
    DataPolicy,
    MembershipAgreement,
    agreement_sha256,
)
from medval.core.schemas import CubeCreate
from medval.core.sealed_models import KeyReleaseVerifierKind, SealedArchive
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    AutoApprovalMode,
    CubeKind,
)
from medval.server.store.interface import Store, StoreTransaction
from medval.server.store.records import AssociationStanding
from medval.trust.keys import key_id


def test_membership_rules_and_data_policies_round_trip(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        bob = make_user(tx, "bob")
        benchmark = tx.benchmark(ids["benchmark"])
        assert benchmark is not None
        assert (benchmark.agreement, benchmark.auto_approval) == (None, AutoApprovalRule())
        agreement = MembershipAgreement(text="terms", sha256=agreement_sha256("terms"))
        rule = AutoApprovalRule(mode=AutoApprovalMode.ALLOWLIST, users=["bob"])
        assert tx.set_benchmark_agreement(ids["benchmark"], agreement).agreement == agreement
        assert tx.set_benchmark_auto_approval(ids["benchmark"], rule).auto_approval == rule
        accepted = tx.add_agreement_acceptance(ids["benchmark"], bob.id, agreement.sha256, NOW)
        association = tx.add_association(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"], bob.id, NOW
        )
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_agreement_acceptance(ids["benchmark"], bob.id, agreement.sha256, NOW)
    policy = DataPolicy(model_owners=["carol"], max_runs=2, expires_on=date(2027, 1, 1))
    with store.transaction() as tx:
        assert tx.agreement_acceptances(ids["benchmark"]) == [accepted]
        assert tx.agreement_acceptances(ids["benchmark"], ids["owner"]) == []
        assert (accepted.username, accepted.sha256, accepted.accepted_at) == (
            "bob",
            agreement.sha256,
            NOW,
        )
        assert association.policy == DataPolicy()
        assert tx.set_association_policy(association.id, policy).policy == policy
        decided = tx.decide_association(
            association.id, ApprovalStatus.APPROVED, ids["owner"], NOW, automatic=True
        )
    with store.transaction() as tx:
        found = tx.association(association.id)
        assert found == decided and found.policy == policy
        # What an upload reads of it: the same status and policy, and None unassociated.
        standing = tx.association_standing(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"]
        )
        assert standing == AssociationStanding(ApprovalStatus.APPROVED, policy)
        unassociated = (ids["benchmark"], AssociationKind.MODEL, ids["dataset"])
        assert tx.association_standing(*unassociated) is None
        assert [(e.status, e.automatic) for e in found.history] == [
            (ApprovalStatus.PENDING, False),
            (ApprovalStatus.APPROVED, True),
        ]
        benchmark = tx.benchmark(ids["benchmark"])
        assert benchmark is not None and benchmark.agreement == agreement
        assert benchmark.auto_approval == rule


def test_signing_keys_are_kept_and_one_per_owner_is_current(store: Store) -> None:
    with store.transaction() as tx:
        owner = make_user(tx, "alice").id
        first = tx.add_signing_key(owner, "1" * 64, "A" * 43 + "=", NOW)
    later = NOW + timedelta(hours=1)
    with store.transaction() as tx:
        second = tx.add_signing_key(owner, "2" * 64, "B" * 43 + "=", later)
        assert (second.owner, second.retired_at) == ("alice", None)
        assert tx.signing_key("1" * 64) == first.model_copy(update={"retired_at": later})
        assert tx.list_signing_keys(owner_id=owner) == [tx.signing_key("1" * 64), second]
        assert tx.signing_key("3" * 64) is None
        assert tx.list_signing_keys(owner_id=owner + 1) == []
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_signing_key(owner, "2" * 64, "B" * 43 + "=", later)


def test_blob_owners_and_the_uploader_of_the_part_held(store: Store) -> None:
    with store.transaction() as tx:
        alice, bob = make_user(tx), make_user(tx, "bob")
        assert tx.blob_owner_ids(H) == [] and tx.blob_uploader_id(H) is None
        tx.start_blob_upload(H, alice.id, NOW)
        tx.start_blob_upload(H, bob.id, NOW)  # bob starts afresh: the part held is his
        assert tx.blob_uploader_id(H) == bob.id
        tx.add_blob_owner(H, bob.id, NOW)
        tx.add_blob_owner(H, bob.id, NOW)  # sent whole again: nothing changes
        tx.add_blob_owner(H, alice.id, NOW)
        assert tx.blob_owner_ids(H) == sorted([alice.id, bob.id])
        cube = make_cube(tx, alice, "m", CubeKind.MODEL)
        assert [c.id for c in tx.cubes_with_blob(H)] == [cube.id]
        assert tx.cubes_with_blob("e" * 64) == [] and tx.benchmarks_with_demo_data(H) == []


def test_a_private_model_holds_its_sealed_archive_only(store: Store) -> None:
    """Its sealed blob is the cube's (readable as the cube is); the blob its clear hash
    names is not: the server never holds a private model in clear."""
    sealed, clear = "5" * 64, "c" * 64
    with store.transaction() as tx:
        alice = make_user(tx)
        body = CubeCreate(
            name="private",
            kind=CubeKind.MODEL,
            archive_hash=clear,
            sealed=SealedArchive(sealed_hash=sealed),
        )
        cube = tx.add_cube(alice.id, body, NOW)
        assert tx.cube(cube.id) == cube and cube.sealed == SealedArchive(sealed_hash=sealed)
        assert [c.id for c in tx.cubes_with_blob(sealed)] == [cube.id]
        assert tx.cubes_with_blob(clear) == []
        assert cube.blob_hashes == {sealed}


def _attested_model(tx: StoreTransaction) -> tuple[int, int]:
    """(a private model released ``attested``, a site), ids."""
    alice, site = make_user(tx), make_user(tx, "site")
    body = CubeCreate(
        name="attested",
        kind=CubeKind.MODEL,
        archive_hash=H,
        sealed=SealedArchive(sealed_hash="b" * 64, key_release=KeyReleaseVerifierKind.ATTESTED),
    )
    return tx.add_cube(alice.id, body, NOW).id, site.id


def test_attestation_pins_are_put_replaced_and_read(store: Store) -> None:
    pins = AttestationPinsCreate(
        measurement="a1" * 48, launch_policy="0x30000", signing_public_key="A" * 43 + "="
    )
    with store.transaction() as tx:
        model_id, _ = _attested_model(tx)
        assert tx.attestation_pins(model_id) is None
        first = tx.put_attestation_pins(model_id, pins, NOW)
    assert (first.model_id, first.measurement, first.window_seconds, first.pinned_at) == (
        model_id,
        "a1" * 48,
        300,
        NOW,
    )
    assert first.signing_key_id == key_id("A" * 43 + "=")
    later = NOW + timedelta(hours=1)
    with store.transaction() as tx:
        again = tx.put_attestation_pins(
            model_id,
            pins.model_copy(update={"measurement": "d4" * 32, "window_seconds": 60}),
            later,
        )
    with store.transaction() as tx:
        assert tx.attestation_pins(model_id) == again
        assert tx.attestation_pins(model_id + 1) is None
    assert (again.id, again.measurement, again.window_seconds, again.pinned_at) == (
        first.id,
        "d4" * 32,
        60,
        later,
    )


def test_a_nonce_is_spent_once_and_kept(store: Store) -> None:
    expiry = NOW + timedelta(minutes=5)
    with store.transaction() as tx:
        model_id, site_id = _attested_model(tx)
        issued = tx.add_attestation_nonce(model_id, site_id, "0" * 64, NOW, expiry)
        tx.add_attestation_nonce(model_id, site_id, "1" * 64, NOW, expiry)
    assert (issued.model_id, issued.recipient_id, issued.nonce) == (model_id, site_id, "0" * 64)
    assert (issued.issued_at, issued.expires_at, issued.spent_at) == (NOW, expiry, None)
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_attestation_nonce(model_id, site_id, "0" * 64, NOW, expiry)
    spent_at = NOW + timedelta(minutes=1)
    with store.transaction() as tx:
        assert tx.spend_attestation_nonce("0" * 64, spent_at) is True
        assert tx.spend_attestation_nonce("0" * 64, spent_at) is False  # a replay
        assert tx.spend_attestation_nonce("f" * 64, spent_at) is False  # never issued
    with store.transaction() as tx:
        found = tx.attestation_nonce("0" * 64)
        assert found is not None and found.spent_at == spent_at
        assert tx.spend_attestation_nonce("0" * 64, spent_at) is False  # in a later one too
        assert tx.attestation_nonce("f" * 64) is None
    # A spend rolled back with its transaction did not happen.
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert tx.spend_attestation_nonce("1" * 64, spent_at) is True
        raise RuntimeError("the release was refused after all")
    with store.transaction() as tx:
        unspent = tx.attestation_nonce("1" * 64)
        assert unspent is not None and unspent.spent_at is None
    # Issued and spent, each in the audit log; the replay and the rollback are not.
    with store.transaction() as tx:
        entries = tx.list_audit_entries(entity_kind="attestation_nonce")
    assert [e.action for e in entries] == [
        "attestation_nonce.add",
        "attestation_nonce.add",
        "attestation_nonce.spend",
    ]
    assert entries[2].before_hash == entries[0].after_hash != entries[2].after_hash
