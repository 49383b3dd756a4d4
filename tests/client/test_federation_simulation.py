"""The simulation's last check: the leaderboard shows every site for every model."""

from __future__ import annotations

import pytest

from medval.client.federation_simulation import ModelSites, check_request, every_site_shown
from medval.core.errors import InvalidInput


def _board(*entries: tuple[int, int]) -> list[ModelSites]:
    return [ModelSites(model=f"m{i}", n_sites=n, n_failed=f) for i, (n, f) in enumerate(entries)]


def test_every_model_with_every_site_is_complete() -> None:
    assert every_site_shown(_board((5, 0), (5, 0)), sites=5, models=2)


@pytest.mark.parametrize(
    "board",
    [
        _board((5, 0), (4, 0)),  # a site missing
        _board((5, 0), (4, 1)),  # a site failed
        _board((5, 0)),  # a model missing
        _board((5, 0), (5, 0), (5, 0)),  # a model too many
        _board(),
    ],
)
def test_anything_less_is_not(board: list[ModelSites]) -> None:
    assert not every_site_shown(board, sites=5, models=2)


def test_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not 100001"):
        check_request(100_001, 1, 1)
    check_request(1, 1, 1)
