"""A site the aggregator does not admit is told why, in one line: its key is not registered
(an association not approved, or revoked), the aggregator's certificate is not the
experiment CA's, or the aggregator cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medval.core.errors import ServerUnavailable
from medval.training.processes import free_port
from medval.training.site_progress import ProgressKind

from .aggregator import PlainAggregator
from .harness import SiteUnderTest
from .pki import make_pki

pytestmark = pytest.mark.flower


def test_a_site_whose_key_is_not_registered_is_refused(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest]
) -> None:
    stranger = make_site("not-approved", 0, register=False)
    stranger.site.start()
    with pytest.raises(ServerUnavailable) as raised:
        stranger.site.wait_connected(60)
    reason = (
        "the aggregator did not admit this site's node key: it is not registered (the "
        "association is not approved, or was revoked), or this node is still online there "
        "(a site that crashed is seen offline about a minute later)"
    )
    assert raised.value.message == (
        f"the site could not join the aggregator at {aggregator.address}: {reason}"
    )
    assert raised.value.exit_code == 7
    assert [e.text for e in stranger.progress.of(ProgressKind.PROBLEM)] == [reason]
    assert stranger.site.gave_up == reason


def test_an_aggregator_with_a_certificate_from_another_ca_is_refused(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest], tmp_path: Path
) -> None:
    other_ca = make_pki(tmp_path / "other-pki").ca_certificate
    wary = make_site("wary", 0, ca_certificate=other_ca)
    wary.site.start()
    with pytest.raises(ServerUnavailable) as raised:
        wary.site.wait_connected(60)
    assert raised.value.message == (
        f"the site could not join the aggregator at {aggregator.address}: the aggregator's "
        "TLS certificate was not issued by the experiment's CA"
    )


def test_an_unreachable_aggregator_is_said_so(
    make_site: Callable[..., SiteUnderTest],
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    lonely = make_site("lonely", 0, register=False, aggregator=nowhere)
    lonely.site.start()
    with pytest.raises(ServerUnavailable) as raised:
        lonely.site.wait_connected(8)
    assert raised.value.message == f"the aggregator at {nowhere} could not be reached within 8 s"
    assert lonely.site.running()  # Flower keeps trying until the site is stopped.
    lonely.site.stop()
    assert not lonely.site.running()
    assert lonely.progress.of(ProgressKind.STOPPED) != []
