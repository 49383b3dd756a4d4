"""A benchmark's declared metrics and subgroups: what is refused, and what is inferred
for a benchmark that declares none."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medval.core.declarations import (
    CountDenominator,
    MetricDeclaration,
    MetricDirection,
    MetricScale,
    SubgroupDeclaration,
    inferred_metrics,
    missing,
    out_of_scale,
    undeclared,
)
from medval.core.schemas import BenchmarkCreate

SHA = "a" * 64


def benchmark(**fields: object) -> BenchmarkCreate:
    return BenchmarkCreate.model_validate(
        {
            "name": "bc",
            "data_preparator_id": 1,
            "reference_model_id": 2,
            "evaluator_id": 3,
            "demo_data_hash": SHA,
            **fields,
        }
    )


def metric(name: str, primary: bool = False, **fields: object) -> dict[str, object]:
    return {"name": name, "label": name.upper(), "primary": primary, **fields}


def test_a_declaration_reads_back_as_declared() -> None:
    declared = benchmark(
        metrics=[
            metric("brier", primary=True, direction="lower"),
            metric("sensitivity", scale="proportion", of="positives"),
        ],
        subgroups=[{"name": "age_band", "label": "Age band", "levels": ["<50", "50-69", "70+"]}],
    )
    brier, sensitivity = declared.metrics
    assert (brier.direction, brier.scale, brier.primary) == (
        MetricDirection.LOWER,
        MetricScale.LINEAR,
        True,
    )
    assert not brier.higher_is_better
    assert sensitivity.of is CountDenominator.POSITIVES
    assert declared.subgroups == [
        SubgroupDeclaration(name="age_band", label="Age band", levels=["<50", "50-69", "70+"])
    ]


def test_no_declaration_is_allowed() -> None:
    assert benchmark().metrics == []
    assert benchmark().subgroups == []


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ([metric("auroc"), metric("brier")], "mark exactly one metric primary"),
        ([metric("auroc", True), metric("brier", True)], "mark exactly one metric primary"),
        ([metric("auroc", True), metric("auroc")], "declare each metric once (auroc twice)"),
        ([metric("brier", True, of="cases")], "metric brier: 'of' applies to a proportion"),
        ([metric("Bad Name", True)], "String should match pattern"),
        ([metric("auroc", True, direction="sideways")], "Input should be 'higher' or 'lower'"),
        ([metric("auroc", True, label="")], "at least 1 character"),
        ([metric("auroc", True, colour="red")], "Extra inputs are not permitted"),
    ],
)
def test_a_bad_declaration_is_refused(metrics: list[object], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        benchmark(metrics=metrics)
    assert message in str(error.value)


def test_a_subgroup_variable_and_its_levels_are_named_once() -> None:
    age = {"name": "age_band", "label": "Age"}
    with pytest.raises(ValidationError, match="age_band twice"):
        benchmark(subgroups=[age, age])
    with pytest.raises(ValidationError, match="age_band names a level twice"):
        benchmark(subgroups=[{**age, "levels": ["old", "old"]}])


def test_without_a_declaration_auroc_ranks_and_errors_rank_lowest_first() -> None:
    inferred = inferred_metrics(["brier", "auroc", "sensitivity", "oe_ratio", "brier"])
    assert [m.name for m in inferred] == ["brier", "auroc", "sensitivity", "oe_ratio"]
    assert [m.primary for m in inferred] == [False, True, False, False]
    assert [m.direction for m in inferred] == ["lower", "higher", "higher", "higher"]
    assert [m.scale for m in inferred] == ["linear", "proportion", "proportion", "ratio"]
    assert [m.of for m in inferred] == [None, None, CountDenominator.POSITIVES, None]


def test_without_auroc_the_first_reported_metric_ranks() -> None:
    inferred = inferred_metrics(["hausdorff95_et", "dice"])
    assert [(m.name, m.primary, m.direction) for m in inferred] == [
        ("hausdorff95_et", True, "lower"),
        ("dice", False, "higher"),
    ]
    assert inferred_metrics([]) == []


def test_what_is_reported_is_compared_with_what_is_declared() -> None:
    declared = [MetricDeclaration(name="auroc", label="AUROC", primary=True)]
    assert missing(declared, ["brier"]) == ["auroc"]
    assert undeclared(declared, ["brier", "auroc", "brier"]) == ["brier"]
    proportion = MetricDeclaration(name="auroc", label="A", scale=MetricScale.PROPORTION)
    ratio = MetricDeclaration(name="oe", label="O:E", scale=MetricScale.RATIO)
    assert [out_of_scale(proportion, v) for v in (0.0, 1.0, 1.01, -0.1)] == [
        False,
        False,
        True,
        True,
    ]
    assert [out_of_scale(ratio, v) for v in (0.5, 0.0)] == [False, True]


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("auroc", "higher"),
        ("dice_et", "higher"),
        ("accuracy", "higher"),
        ("brier", "lower"),
        ("hd95", "lower"),
        ("hausdorff95_et", "lower"),
        ("log_loss", "lower"),
        ("mean_absolute_error", "lower"),
        ("surface_distance_mm", "lower"),
        ("lossless_ratio", "higher"),
        ("rmse", "lower"),
    ],
)
def test_without_a_declaration_errors_and_distances_rank_lower_first(
    name: str, direction: str
) -> None:
    """(Moved from core.metric_ranking, which inferred_metric replaces.)"""
    assert inferred_metrics([name])[0].direction == direction
