"""The epsilon a plan promises, against the Gaussian mechanism's closed forms."""

from __future__ import annotations

import math

import pytest

from medval.core.training_plan import plan_from_document
from medval.training.privacy import epsilon, privacy_lines


def _plan(rounds: int, noise: float | None) -> dict[str, object]:
    document: dict[str, object] = {"rounds": rounds, "min_sites": 2}
    if noise is not None:
        document["differential_privacy"] = {"noise_multiplier": noise, "clipping_norm": 1.0}
    return document


def test_no_differential_privacy_has_no_epsilon() -> None:
    plan = plan_from_document(_plan(3, None), "plan.yaml")
    assert epsilon(plan) is None
    assert privacy_lines(plan)[0] == (
        "differential privacy: off (model updates leave without added noise)"
    )


def test_epsilon_lies_between_the_rdp_bound_and_what_one_round_costs() -> None:
    # The Renyi DP of T Gaussian rounds at order a is T*a/(2 s^2); its conversion to
    # (epsilon, delta) is at most min over a of T*a/(2 s^2) + log(1/delta)/(a-1).
    noise, rounds, delta = 2.0, 10, 1e-5
    plan = plan_from_document(_plan(rounds, noise), "plan.yaml")
    spent = epsilon(plan)
    assert spent is not None
    bound = min(
        rounds * a / (2 * noise**2) + math.log(1 / delta) / (a - 1)
        for a in [1 + x / 10 for x in range(1, 1000)]
    )
    one_round = epsilon(plan_from_document(_plan(1, noise), "plan.yaml"))
    assert one_round is not None
    assert one_round < spent <= bound + 1e-9


@pytest.mark.parametrize(("low", "high"), [(1.0, 4.0), (0.5, 1.0)])
def test_more_noise_spends_less(low: float, high: float) -> None:
    quiet = epsilon(plan_from_document(_plan(5, high), "plan.yaml"))
    loud = epsilon(plan_from_document(_plan(5, low), "plan.yaml"))
    assert quiet is not None and loud is not None
    assert quiet < loud


def test_the_data_owner_reads_epsilon_and_delta() -> None:
    plan = plan_from_document(_plan(3, 1.0), "plan.yaml")
    spent = epsilon(plan)
    assert spent is not None
    assert privacy_lines(plan)[0] == (
        "differential privacy: on (client-side clipping at norm 1, noise multiplier 1, "
        f"delta 1e-05); over 3 rounds: epsilon {spent:.3g} at delta 1e-05"
    )


def test_the_app_is_given_the_delta_the_data_owner_was_shown() -> None:
    document = _plan(2, 1.5)
    document["differential_privacy"] = {
        "noise_multiplier": 1.5,
        "clipping_norm": 0.5,
        "delta": 1e-6,
    }
    config = plan_from_document(document, "plan.yaml").run_config()
    assert (config["dp-noise-multiplier"], config["dp-clipping-norm"], config["dp-delta"]) == (
        1.5,
        0.5,
        1e-6,
    )
    assert "dp-delta" not in plan_from_document(_plan(2, None), "plan.yaml").run_config()
