"""The store contract of expected sites and institutions (issue 19): every backend (file
SQLite, PostgreSQL) must pass all of these, as it passes ``test_store_contract``."""

from __future__ import annotations

import pytest
from tests.store.world import NOW, benchmark_world, make_user

from medval.core.errors import Conflict, NotFound
from medval.core.participation_schemas import SiteKind
from medval.core.states import ApprovalStatus, AssociationKind
from medval.server.store.interface import Actor, Store


def test_institutions_are_set_and_cleared(store: Store) -> None:
    with store.transaction() as tx:
        bob, carol, _ = (make_user(tx, n) for n in ("bob", "carol", "dave"))
        assert bob.institution is None
        assert tx.set_user_institution(carol.id, "St. Mary's").institution == "St. Mary's"
        tx.set_user_institution(bob.id, "St. Mary's")
    with store.transaction() as tx:
        assert [u.username for u in tx.institution_members("St. Mary's")] == ["bob", "carol"]
        assert tx.institution_members("Elsewhere") == []
        tx.set_user_institution(bob.id, None)
    with store.transaction() as tx:
        assert [u.username for u in tx.institution_members("St. Mary's")] == ["carol"]
        with pytest.raises(NotFound):
            tx.set_user_institution(999, "x")


def test_expected_sites_are_added_listed_and_deleted_alone(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        bob = make_user(tx, "bob")
        tx.set_user_institution(bob.id, "St. Mary's")
        user_site = tx.add_expected_site(ids["benchmark"], SiteKind.USER, bob.id, ids["owner"], NOW)
        place = tx.add_expected_site(
            ids["benchmark"], SiteKind.INSTITUTION, "St. Mary's", ids["owner"], NOW
        )
        association = tx.add_association(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"], ids["owner"], NOW
        )
    assert (user_site.kind, user_site.name, user_site.user_id, user_site.added_by) == (
        SiteKind.USER,
        "bob",
        bob.id,
        "alice",
    )
    assert (place.kind, place.name, place.institution, place.created_at) == (
        SiteKind.INSTITUTION,
        "St. Mary's",
        "St. Mary's",
        NOW,
    )
    # Expecting one again is a conflict, and keeps what was there.
    for kind, name in ((SiteKind.USER, bob.id), (SiteKind.INSTITUTION, "St. Mary's")):
        with pytest.raises(Conflict), store.transaction() as tx:
            tx.add_expected_site(ids["benchmark"], kind, name, ids["owner"], NOW)
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.add_expected_site(ids["benchmark"], SiteKind.USER, 999, ids["owner"], NOW)
    with store.transaction() as tx:
        assert tx.list_expected_sites(ids["benchmark"]) == [user_site, place]
        assert tx.expected_site(place.id) == place
        assert tx.expected_site(999) is None
        tx.delete_expected_site(user_site.id)
    with store.transaction() as tx:
        assert tx.list_expected_sites(ids["benchmark"]) == [place]
        # Only the row: the account and the association are as they were.
        assert tx.user(bob.id) is not None
        assert tx.association(association.id) == association
        with pytest.raises(NotFound):
            tx.delete_expected_site(user_site.id)


def test_changes_are_audited_and_an_approval_says_why(store: Store) -> None:
    with store.transaction(Actor("alice", NOW)) as tx:
        ids = benchmark_world(tx)
        bob = make_user(tx, "bob")
        site = tx.add_expected_site(ids["benchmark"], SiteKind.USER, bob.id, ids["owner"], NOW)
        association = tx.add_association(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"], ids["owner"], NOW
        )
        tx.decide_association(
            association.id,
            ApprovalStatus.APPROVED,
            ids["owner"],
            NOW,
            automatic=True,
            because="expected site",
        )
    with store.transaction(Actor("alice", NOW)) as tx:
        tx.delete_expected_site(site.id)
    with store.transaction() as tx:
        sites = tx.list_audit_entries(entity_kind="expected_site")
        approvals = tx.list_audit_entries("association", [str(association.id)])
    assert [(e.action, e.entity_id, e.actor) for e in sites] == [
        ("expected_site.add", str(site.id), "alice"),
        ("expected_site.delete", str(site.id), "alice"),
    ]
    assert sites[0].before_hash is None and sites[0].after_hash is not None
    assert [e.action for e in approvals] == [
        "association.add",
        "association.auto-approved (expected site)",
    ]
