"""Small subgroup levels: withheld whole by the client, found by the server's check."""

from __future__ import annotations

from typing import Any

from medval.core.declarations import SubgroupDeclaration
from medval.core.documents import ResultDocument
from medval.core.subgroup_cells import not_declared, small_cells_in_subgroups, suppress_subgroups


def _level(n: int, positive: int, auroc: float = 0.71) -> dict[str, Any]:
    metric = {"value": auroc, "lower": auroc - 0.1, "upper": auroc + 0.1}
    return {"n_cases": n, "n_positive": positive, "metrics": {"auroc": metric}}


def _document(levels: dict[str, Any]) -> ResultDocument:
    return ResultDocument.model_validate(
        {
            "n_cases": sum(level["n_cases"] for level in levels.values()),
            "n_positive": sum(level["n_positive"] for level in levels.values()),
            "metrics": {},
            "subgroups": {"age_band": levels},
        }
    )


def test_a_level_of_three_cases_is_withheld_with_the_next_smallest() -> None:
    document = _document({"<50": _level(3, 1), "50-69": _level(40, 15), "70+": _level(60, 20)})
    sent, withheld = suppress_subgroups(document, 5)
    assert sent.subgroups is not None
    assert list(sent.subgroups["age_band"]) == ["70+"]
    assert [(w.path, w.reason, w.small_cell) for w in withheld] == [
        ("subgroups.age_band.<50", "3 cases, fewer than the minimum cell size 5", True),
        (
            "subgroups.age_band.50-69",
            "the site's total less the levels sent would leave 3 cases, fewer than 5",
            True,
        ),
    ]
    assert "<50" not in sent.model_dump_json()
    assert small_cells_in_subgroups(sent, 5) == []


def test_few_positives_or_negatives_withhold_a_level() -> None:
    document = _document({"a": _level(40, 2), "b": _level(40, 38), "c": _level(40, 20)})
    cells = small_cells_in_subgroups(document, 5)
    assert [(c.path, c.reason) for c in cells] == [
        ("subgroups.age_band.a", "2 positive cases, fewer than the minimum cell size 5"),
        ("subgroups.age_band.b", "2 negative cases, fewer than the minimum cell size 5"),
    ]
    sent, _ = suppress_subgroups(document, 5)
    assert sent.subgroups is not None
    assert list(sent.subgroups["age_band"]) == ["c"]


def test_large_levels_pass_untouched() -> None:
    document = _document({"<50": _level(30, 10), "50+": _level(70, 25)})
    assert suppress_subgroups(document, 5) == (document, [])


def test_only_declared_variables_and_levels() -> None:
    document = _document({"<50": _level(30, 10), "50+": _level(70, 25)})
    age = SubgroupDeclaration(name="age_band", label="Age", levels=["<50", "50-69", "70+"])
    assert not_declared(document, [age]) == (
        "subgroup age_band has level 50+, not one declared (<50, 50-69, 70+)"
    )
    grade = SubgroupDeclaration(name="grade", label="Grade")
    assert not_declared(document, [grade]) == (
        "subgroup variable age_band is not declared by the benchmark (grade)"
    )
    assert not_declared(document, [SubgroupDeclaration(name="age_band", label="Age")]) is None
