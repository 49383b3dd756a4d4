"""What may leave a hospital is strict: aggregates with bounded shapes, nothing free-form."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from medval.core.documents import MAX_METRICS, DatasetStatistics, ResultDocument
from medval.core.errors import ERRORS_BY_CODE, HashMismatch, MedvalError, error_from_code


def result(**metrics: Any) -> dict[str, Any]:
    return {"n_cases": 10, "n_positive": 3, "metrics": metrics}


def test_a_result_with_intervals_validates() -> None:
    doc = ResultDocument.model_validate(result(auroc={"value": 0.7, "lower": 0.6, "upper": 0.8}))
    assert doc.metrics["auroc"].lower == 0.6


@pytest.mark.parametrize(
    "bad",
    [
        result(auroc={"value": math.nan}),
        result(auroc={"value": math.inf}),
        result(auroc={"value": 0.7, "predictions": [0.1, 0.2]}),
        result(**{"Per Case": {"value": 1.0}}),
        {**result(auroc={"value": 0.7}), "case_ids": ["p1", "p2"]},
        result(**{f"m{i}": {"value": 1.0} for i in range(MAX_METRICS + 1)}),
        {"n_cases": -1, "n_positive": 0, "metrics": {}},
    ],
)
def test_results_that_could_carry_per_case_data_or_junk_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ResultDocument.model_validate(bad)


def test_statistics_allow_one_level_of_category_counts_only() -> None:
    DatasetStatistics.model_validate({"n_cases": 5, "values": {"grade": {"g2": 3, "g3": 2}}})
    with pytest.raises(ValidationError):
        DatasetStatistics.model_validate({"n_cases": 5, "values": {"ages": [61, 72, 55]}})
    with pytest.raises(ValidationError):
        DatasetStatistics.model_validate({"n_cases": 5, "values": {"x": {"y": {"z": 1}}}})


def test_every_error_code_round_trips_to_its_class() -> None:
    for code, cls in ERRORS_BY_CODE.items():
        rebuilt = error_from_code(code, "message")
        assert type(rebuilt) is cls
        assert rebuilt.message == "message"
    assert type(error_from_code("something_new", "m")) is MedvalError
    assert isinstance(error_from_code("hash_mismatch", "m"), HashMismatch)


def test_error_codes_and_exit_codes_are_stable_and_distinct_enough() -> None:
    codes = [cls.code for cls in ERRORS_BY_CODE.values()]
    assert len(codes) == len(set(codes))
    assert all(cls.exit_code != 0 for cls in ERRORS_BY_CODE.values())
