"""A result document checked against its benchmark's declared metrics: only the declared
ones are kept, in the declared order; a declared metric missing or off its scale is one
line; NaN (None) is allowed; a benchmark that declares nothing keeps every metric."""

from __future__ import annotations

import pytest

from medval.core.declarations import MetricDeclaration, MetricDirection, MetricScale
from medval.core.declared_results import declared_document, undeclared_line
from medval.core.documents import MetricValue, ResultDocument
from medval.core.errors import InvalidInput

BRIER = MetricDeclaration(
    name="brier", label="Brier score", direction=MetricDirection.LOWER, primary=True
)
AUROC = MetricDeclaration(name="auroc", label="AUROC", scale=MetricScale.PROPORTION)
OE = MetricDeclaration(name="oe_ratio", label="O:E ratio", scale=MetricScale.RATIO)


def document(**values: float | None) -> ResultDocument:
    return ResultDocument(
        n_cases=50, metrics={name: MetricValue(value=v) for name, v in values.items()}
    )


def test_only_the_declared_metrics_are_kept_in_the_declared_order() -> None:
    checked = declared_document(
        [AUROC, BRIER], document(sensitivity=0.7, brier=0.2, auroc=0.8, ece=0.1), "results"
    )
    assert list(checked.document.metrics) == ["auroc", "brier"]
    assert checked.document.metrics["brier"].value == 0.2
    assert checked.document.n_cases == 50
    assert checked.undeclared == ["sensitivity", "ece"]
    assert undeclared_line(checked.undeclared) == "not declared, so not shown: sensitivity, ece"
    assert undeclared_line([]) is None


def test_a_declared_metric_not_reported_is_refused_in_one_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        declared_document([BRIER, AUROC, OE], document(auroc=0.8), "the results")
    assert refused.value.message == "the results: declared metric(s) not reported: brier, oe_ratio"


@pytest.mark.parametrize(
    ("declared", "value", "message"),
    [
        (AUROC, 1.2, "r: auroc is 1.2, outside its declared scale (a proportion, in [0, 1])"),
        (AUROC, -0.01, "r: auroc is -0.01, outside its declared scale (a proportion, in [0, 1])"),
        (OE, 0.0, "r: oe_ratio is 0, outside its declared scale (a ratio, above 0)"),
    ],
)
def test_a_value_off_its_declared_scale_is_refused(
    declared: MetricDeclaration, value: float, message: str
) -> None:
    primary = declared.model_copy(update={"primary": True})
    with pytest.raises(InvalidInput) as refused:
        declared_document([primary], document(**{declared.name: value}), "r")
    assert refused.value.message == message


def test_values_on_their_scale_and_missing_ones_pass() -> None:
    checked = declared_document(
        [BRIER, AUROC, OE], document(brier=7.5, auroc=1.0, oe_ratio=None), "r"
    )
    assert checked.document.metrics["oe_ratio"].value is None
    assert checked.undeclared == []


def test_a_benchmark_declaring_nothing_keeps_every_metric() -> None:
    reported = document(brier=0.2, whatever=3.0)
    checked = declared_document([], reported, "r")
    assert checked.document == reported and checked.undeclared == []


def test_a_declared_metric_withheld_as_a_small_cell_counts_as_missing() -> None:
    checked = declared_document([BRIER, AUROC], document(auroc=0.8), "r", small_cells={"brier"})
    assert checked.document.metrics["brier"].value is None
    with pytest.raises(InvalidInput):
        declared_document([BRIER, AUROC], document(auroc=0.8), "r", small_cells={"n_cases"})
