"""A benchmark's declarations file (YAML or JSON): read, refused in one line naming the
file, and written back in the same form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medval.core.declaration_files import declarations_text, read_declarations
from medval.core.declarations import CountDenominator, MetricDirection, MetricScale
from medval.core.errors import InvalidInput

YAML = """\
metrics:
  - {name: brier, label: Brier score, direction: lower, primary: true}
  - name: sensitivity
    label: Sensitivity
    scale: proportion
    of: positives
subgroups:
  - {name: age_band, label: Age band, levels: ["<50", "50+"]}
"""


def test_a_yaml_file_reads_as_declared(tmp_path: Path) -> None:
    path = tmp_path / "declarations.yaml"
    path.write_text(YAML)
    read = read_declarations(path)
    brier, sensitivity = read.metrics
    assert (brier.name, brier.label, brier.direction, brier.scale, brier.primary) == (
        "brier",
        "Brier score",
        MetricDirection.LOWER,
        MetricScale.LINEAR,
        True,
    )
    assert sensitivity.of is CountDenominator.POSITIVES and not sensitivity.primary
    assert [(s.name, s.levels) for s in read.subgroups] == [("age_band", ["<50", "50+"])]


def test_a_json_file_reads_too_and_subgroups_are_optional(tmp_path: Path) -> None:
    path = tmp_path / "declarations.json"
    path.write_text(json.dumps({"metrics": [{"name": "auroc", "label": "AUROC", "primary": True}]}))
    read = read_declarations(path)
    assert [m.name for m in read.metrics] == ["auroc"] and read.subgroups == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("metrics: [", "not YAML or JSON: line 2, column 1: did not find expected node content"),
        ("- auroc\n", "expected a mapping with a 'metrics:' list"),
        ("metrics: []\n", "'metrics:' declares no metric"),
        (
            "metrics:\n  - {name: auroc, label: AUROC}\n",
            "metrics: mark exactly one metric primary (it ranks the leaderboard); 0 are",
        ),
        (
            "metrics:\n  - {name: auroc, label: AUROC, primary: true, of: cases}\n",
            "metric auroc: 'of' applies to a proportion only",
        ),
        (
            "metrics:\n  - {name: auroc, label: AUROC, primary: true, scale: odds}\n",
            "metrics.0.scale: Input should be 'proportion', 'ratio' or 'linear'",
        ),
        (
            "metrics:\n  - {name: auroc, label: AUROC, primary: true}\nextra: 1\n",
            "extra: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "declarations.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as refused:
        read_declarations(path)
    assert refused.value.message == f"declarations file {path}: {problem}"


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_declarations(tmp_path / "nope.yaml")
    assert refused.value.message == f"declarations file {tmp_path / 'nope.yaml'} does not exist"


def test_a_declaration_written_back_reads_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "declarations.yaml"
    path.write_text(YAML)
    metrics = read_declarations(path).metrics
    labelled = [metrics[0].model_copy(update={"label": 'Brier: "mean" squared error'}), metrics[1]]
    again = tmp_path / "again.yaml"
    again.write_text(declarations_text(labelled))
    assert read_declarations(again).metrics == labelled
