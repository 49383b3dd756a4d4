"""A data policy's clauses, evaluated by the one function the client and the server share."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from medval.core.errors import PolicyRefused
from medval.core.membership_schemas import DataPolicy
from medval.trust.data_policy import (
    Execution,
    clauses,
    for_model_owner,
    refusal,
    require_allowed,
)

TODAY = date(2026, 12, 31)


def _run(runs: int = 0, owner: str = "vendor") -> Execution:
    return Execution(model_id=7, model_owner=owner, dataset_id=3, runs=runs)


def test_the_default_policy_allows_anyone_any_number_of_times_for_ever() -> None:
    assert refusal(DataPolicy(), _run(runs=10_000), date(9999, 12, 31)) is None


def test_a_model_owner_off_the_allowlist_is_refused() -> None:
    policy = DataPolicy(model_owners=["acme"])
    assert refusal(policy, _run(owner="acme"), TODAY) is None
    assert refusal(policy, _run(owner="x"), TODAY) == (
        "policy: model owner 'x' is not on this dataset's allowlist"
    )
    # An empty allowlist admits no one.
    assert refusal(DataPolicy(model_owners=[]), _run(owner="acme"), TODAY) == (
        "policy: model owner 'acme' is not on this dataset's allowlist"
    )


def test_a_model_is_refused_once_it_has_run_the_limit() -> None:
    policy = DataPolicy(max_runs=2)
    assert refusal(policy, _run(runs=1), TODAY) is None
    assert refusal(policy, _run(runs=2), TODAY) == (
        "policy: model 7 has run 2 times on dataset 3, the limit is 2"
    )
    assert refusal(DataPolicy(max_runs=1), _run(runs=1), TODAY) == (
        "policy: model 7 has run 1 time on dataset 3, the limit is 1"
    )


def test_from_the_expiry_day_on_nothing_runs() -> None:
    policy = DataPolicy(expires_on=date(2027, 1, 1))
    assert refusal(policy, _run(), date(2026, 12, 31)) is None
    for day in (date(2027, 1, 1), date(2030, 6, 1)):
        assert refusal(policy, _run(), day) == "policy: the association expired on 2027-01-01"


def test_the_first_refusing_clause_is_named_expiry_then_allowlist_then_runs() -> None:
    policy = DataPolicy(model_owners=["acme"], max_runs=1, expires_on=date(2026, 1, 1))
    assert refusal(policy, _run(runs=5, owner="x"), TODAY) == (
        "policy: the association expired on 2026-01-01"
    )
    policy = policy.model_copy(update={"expires_on": None})
    assert refusal(policy, _run(runs=5, owner="x"), TODAY) == (
        "policy: model owner 'x' is not on this dataset's allowlist"
    )


def test_require_allowed_raises_the_clause_as_a_policy_refusal() -> None:
    with pytest.raises(PolicyRefused) as refused:
        require_allowed(DataPolicy(max_runs=2), _run(runs=2), TODAY)
    assert str(refused.value) == "policy: model 7 has run 2 times on dataset 3, the limit is 2"
    assert (refused.value.code, refused.value.http_status, refused.value.exit_code) == (
        "policy_refused",
        403,
        11,
    )
    require_allowed(DataPolicy(), _run(), TODAY)  # allowed: nothing raised


def test_clauses_read_in_words() -> None:
    assert clauses(DataPolicy()) == [
        ("model owners", "anyone the committee approves"),
        ("runs per model", "unlimited"),
        ("expires on", "never"),
    ]
    policy = DataPolicy(model_owners=["acme", "beta"], max_runs=3, expires_on=date(2027, 1, 1))
    assert clauses(policy) == [
        ("model owners", "acme, beta"),
        ("runs per model", "3"),
        ("expires on", "2027-01-01"),
    ]
    assert clauses(DataPolicy(model_owners=[]))[0] == ("model owners", "nobody")


def test_a_model_owner_sees_only_themself_on_the_allowlist() -> None:
    policy = DataPolicy(model_owners=["acme", "beta"], max_runs=3)
    assert for_model_owner(policy, "acme") == DataPolicy(model_owners=["acme"], max_runs=3)
    assert for_model_owner(policy, "gamma") == DataPolicy(model_owners=[], max_runs=3)
    assert for_model_owner(DataPolicy(), "gamma") == DataPolicy()


@pytest.mark.parametrize(
    "bad",
    [{"max_runs": 0}, {"max_runs": -1}, {"model_owners": ["../x"]}, {"expires_on": "soon"}],
)
def test_a_malformed_policy_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DataPolicy.model_validate(bad)
