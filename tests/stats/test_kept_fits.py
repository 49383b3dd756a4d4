"""A binomial-normal fit is kept by its counts: the same counts give the kept fit, which
is the fit made afresh; other counts are fitted anew; bad counts are refused every time."""

from __future__ import annotations

import pytest

from medval.stats import proportions
from medval.stats.proportions import pool_counts


def test_the_same_counts_give_the_kept_fit_which_is_the_fit() -> None:
    proportions._pool_counts_kept.cache_clear()
    first = pool_counts([3, 10, 7], [30, 40, 35])
    again = pool_counts((3.0, 10.0, 7.0), (30.0, 40.0, 35.0))  # ints or floats alike
    assert again is first
    assert proportions._pool_counts_kept.cache_info().hits == 1
    proportions._pool_counts_kept.cache_clear()
    assert pool_counts([3, 10, 7], [30, 40, 35]) == first
    other = pool_counts([3, 10, 8], [30, 40, 35])
    assert other != first


def test_bad_counts_are_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="each site needs trials > 0"):
            pool_counts([5], [3])


def test_sites_in_any_order_give_the_same_fit_to_the_last_digit() -> None:
    events, trials = [0, 4, 9, 2, 7], [30, 28, 40, 25, 33]
    first = pool_counts(events, trials)
    proportions._pool_counts_kept.cache_clear()
    again = pool_counts(events[::-1], trials[::-1])
    assert again == first
