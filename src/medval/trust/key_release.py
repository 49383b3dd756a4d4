"""Releasing a private model's key: the seam, and the verifier for approved sites.

A private model (issue 16) is stored encrypted, and its key reaches a site
only through a ``KeyReleaseVerifier`` chosen per model by its ``KeyReleaseVerifierKind``:

- ``none``: the key is released to every site whose association with a benchmark that
  includes the model was approved (``ApprovedSitesVerifier``). This protects the model
  from the server's operator and from unapproved sites, not from an approved site's root.
- ``attested``: the key is released only against attestation evidence that a verifier
  accepts (``medval.trust.attestation.AttestedVerifier``), so that only a runner image
  with a pinned measurement, inside a confidential VM, could ever hold it.

No trusted execution environment (TEE) runs on the machines medval is built and tested
on. The server releases a site's wrapped model key through this seam
(``medval.server.services.key_release``): ``none`` with ``ApprovedSitesVerifier``;
``attested`` with ``AttestedVerifier`` on the pins the model's owner stored, against a
stand-in evidence document. See ``docs/confidential-computing.md``. Imports only
``medval.core``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from medval.core.errors import KeyReleaseRefused
from medval.core.sealed_models import KeyReleaseVerifierKind

__all__ = [
    "ApprovedSitesVerifier",
    "EvidenceForAnotherModel",
    "EvidenceMalformed",
    "EvidenceMissing",
    "EvidenceOutsideWindow",
    "EvidenceSignatureInvalid",
    "KeyReleaseRequest",
    "KeyReleaseVerifier",
    "KeyReleaseVerifierKind",
    "LaunchPolicyMismatch",
    "MeasurementMismatch",
    "NonceExpired",
    "NonceReplayed",
    "NonceUnknown",
    "SiteNotApproved",
    "refusal",
]

REFUSED = "key release refused"
Refusal = TypeVar("Refusal", bound=KeyReleaseRefused)


# Each refusal is its own class, so a caller (and a test) can tell them apart; all are
# ``KeyReleaseRefused`` (exit 16, HTTP 403) with one line that names the failed check.


class SiteNotApproved(KeyReleaseRefused):
    """The site has no approved association with a benchmark that includes the model."""


class EvidenceMissing(KeyReleaseRefused):
    """The model releases its key only against evidence, and none was sent."""


class EvidenceMalformed(KeyReleaseRefused):
    """The evidence is not a medval attestation document."""


class EvidenceSignatureInvalid(KeyReleaseRefused):
    """The evidence is not signed by the pinned attestation key."""


class EvidenceForAnotherModel(KeyReleaseRefused):
    """The evidence names another model than the one whose key is asked for."""


class MeasurementMismatch(KeyReleaseRefused):
    """The runner image that was measured is not the one pinned for the model."""


class LaunchPolicyMismatch(KeyReleaseRefused):
    """The guest was launched under another policy than the pinned one."""


class EvidenceOutsideWindow(KeyReleaseRefused):
    """The evidence was made too long ago, or claims to come from the future."""


class NonceUnknown(KeyReleaseRefused):
    """The nonce was never issued by this verifier (or not for this model)."""


class NonceReplayed(KeyReleaseRefused):
    """The nonce was already used: the document is a replay."""


class NonceExpired(KeyReleaseRefused):
    """The nonce was issued, but its time ran out before the evidence came back."""


def refusal(kind: type[Refusal], reason: str) -> Refusal:
    """A refusal of ``kind`` whose one line starts with the same words for every check."""
    return kind(f"{REFUSED}: {reason}")


@dataclass(frozen=True)
class KeyReleaseRequest:
    """A site asking for a model's key.

    ``site_approved`` is decided by the server from the associations (the caller's
    business, not the verifier's); ``evidence`` is the attestation document as sent,
    if any.
    """

    model_id: int
    site: str
    site_approved: bool
    evidence: bytes | None = None


class KeyReleaseVerifier(Protocol):
    """Decides whether a model's key may be released for one request.

    ``check`` returns when the key may be released and raises a ``KeyReleaseRefused``
    (one line) when it may not. ``now`` is passed in so that time is a seam.
    """

    @property
    def kind(self) -> KeyReleaseVerifierKind: ...

    def check(self, request: KeyReleaseRequest, now: datetime) -> None: ...


def require_approved(request: KeyReleaseRequest) -> None:
    """Every verifier's first check: an unapproved site gets no key, whatever it sends."""
    if not request.site_approved:
        raise refusal(
            SiteNotApproved,
            f"site {request.site} is not approved for model {request.model_id}",
        )


class ApprovedSitesVerifier:
    """``none``: the key goes to every approved site, and to no other."""

    @property
    def kind(self) -> KeyReleaseVerifierKind:
        return KeyReleaseVerifierKind.NONE

    def check(self, request: KeyReleaseRequest, now: datetime) -> None:
        require_approved(request)
