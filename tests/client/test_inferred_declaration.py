"""A benchmark registered without a declarations file declares what its reference model
reports on the demo data: its metrics, a metric withheld there as a small cell, and its
subgroup variables, even one whose every level was withheld; printed in a file's form."""

from __future__ import annotations

from pathlib import Path

from medval.client.registration import declaring
from medval.core.declaration_files import read_declarations
from medval.core.documents import ResultDocument
from medval.core.schemas import BenchmarkCreate


def test_metrics_and_subgroups_are_inferred_and_printed_as_a_file(tmp_path: Path) -> None:
    metric = {"value": 0.7, "lower": 0.6, "upper": 0.8}
    level = {"n_cases": 40, "n_positive": 20, "metrics": {"auroc": metric}}
    reference = ResultDocument.model_validate(
        {
            "n_cases": 80,
            "n_positive": 40,
            "metrics": {"auroc": metric},
            "subgroups": {"age_band": {"<50": level, "50-69": level}},
        }
    )
    withheld = ["specificity", "subgroups.age_band.70+", "subgroups.sex.f", "n_positive"]
    said: list[str] = []
    body = BenchmarkCreate(
        name="b", data_preparator_id=1, reference_model_id=2, evaluator_id=3,
        demo_data_hash="0" * 64,
    )  # fmt: skip
    declared = declaring(body, reference, said.append, withheld)
    assert [m.name for m in declared.metrics] == ["auroc", "specificity"]
    assert [(g.name, g.label, g.levels) for g in declared.subgroups] == [
        ("age_band", "age_band", None),
        ("sex", "sex", None),
    ]
    assert said[0].startswith("no --declarations: the benchmark declares the metrics (and ")
    text = tmp_path / "declarations.yaml"
    text.write_text("\n".join(said[1:]) + "\n")
    again = read_declarations(text)
    assert (again.metrics, again.subgroups) == (declared.metrics, declared.subgroups)
