"""A smaller run of the proof by simulation (bench/pooling_coverage.py): 200 replicates of
its hardest scenario that the pooling should still pass (with counts, and with the counts
the intervals imply), at a fixed seed: five small sites
(30 cases) near 0 with high heterogeneity. (One scenario: a replicate costs about 60 ms,
and the suite's budget is about 20 s; the bench runs all twelve.)

The band: with 200 replicates, the number of intervals that cover is Binomial(200, c).
At the nominal c = 0.95 its SD is 3.1 intervals, and three SDs either side is 181 to 199,
so a coverage outside [0.90, 0.99] in 200 replicates says the true coverage is not near
95% (less than 0.3% of runs of a 95% method fall outside); at the target's edges (93%,
97%) a run falls inside with probability about 0.95. The old pooling (clipped logits)
covers about 80% here (bench): its expected 160 of 200 lie 3.5 of its SDs (5.7) below the
band, so the test tells it apart.
"""

from __future__ import annotations

from bench.pooling_coverage import Scenario, simulate

REPLICATES = 200
LOW, HIGH = 0.90, 0.99


def test_pooled_counts_cover_at_high_heterogeneity_near_zero() -> None:
    found = simulate(Scenario(sites=5, proportion=0.02, i_squared=0.75), REPLICATES, seed=13)
    assert LOW <= found.rate(found.counts) <= HIGH, found
    # Without counts, the default pools the counts the intervals imply: as well.
    assert LOW <= found.rate(found.effective) <= HIGH, found
    assert found.rate(found.intervals) < LOW, found  # pooling the intervals did not
    assert found.rate(found.old) < LOW, found  # the old pooling did not
    # The sites' own (Wilson) intervals, of each site's truth: 1,000 of them.
    assert LOW <= found.sites / found.site_total <= HIGH, found
