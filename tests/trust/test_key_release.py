"""The key-release seam: the verifier kinds, an unknown kind refused in one line, and
the ``none`` verifier (approved sites only). Nothing calls the seam yet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medval.core.errors import InvalidInput, KeyReleaseRefused, error_from_code
from medval.trust.key_release import (
    ApprovedSitesVerifier,
    KeyReleaseRequest,
    KeyReleaseVerifier,
    KeyReleaseVerifierKind,
    SiteNotApproved,
)

NOW = datetime(2026, 12, 6, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["none", "attested"])
def test_the_two_kinds_are_named_as_the_issue_names_them(text: str) -> None:
    assert KeyReleaseVerifierKind.parse(text).value == text


@pytest.mark.parametrize("text", ["tpm", "", "Attested", "sev-snp"])
def test_an_unknown_verifier_kind_is_one_line(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        KeyReleaseVerifierKind.parse(text)
    assert str(refused.value) == f"unknown key-release verifier {text!r} (known: none, attested)"
    assert refused.value.exit_code == 2
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_none_releases_to_an_approved_site_and_to_no_other() -> None:
    verifier: KeyReleaseVerifier = ApprovedSitesVerifier()
    assert verifier.kind is KeyReleaseVerifierKind.NONE
    verifier.check(KeyReleaseRequest(7, "hospital-a", site_approved=True), NOW)
    with pytest.raises(SiteNotApproved) as refused:
        verifier.check(KeyReleaseRequest(7, "hospital-z", site_approved=False), NOW)
    assert str(refused.value) == "key release refused: site hospital-z is not approved for model 7"


def test_a_refusal_crosses_the_wire_as_its_code() -> None:
    again = error_from_code("key_release_refused", "key release refused: site x ...")
    assert type(again) is KeyReleaseRefused
    assert (again.exit_code, again.http_status) == (16, 403)
