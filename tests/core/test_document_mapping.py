"""What MedPerf cubes write is mapped onto medval's documents by the documented rules.

Each rule of :mod:`medval.core.document_mapping` has a test here: names from paths,
missing values, what is left out and named (never in the document), what is refused in
one line, the size limits (which file is read: test_document_files.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from medval.core.document_files import read_free_document
from medval.core.document_mapping import (
    MAX_NAMED_LEFT_OUT,
    MAX_TABLE_ENTRIES,
    MAX_VISITED,
    LeftOut,
    ReadDocument,
    metric_name,
)
from medval.core.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_METRICS,
    DatasetStatistics,
    MetricValue,
    ResultDocument,
)
from medval.core.errors import InvalidInput

# A metrics cube's results.yaml as MedPerf users write them: nested per label, NaN for a
# label absent at this site, per-case values, free text.
MEDPERF_RESULTS = """\
AUC:
  Atelectasis: 0.81
  Cardiomegaly: .nan
  Edema: 0.77
accuracy: 0.9
dice:
  value: 0.70
  lower: 0.61
  upper: 0.78
per_case_dice: [0.91, 0.42, 0.77]
model_version: v1.2 (trained 2023)
converged: true
"""


def _results(tmp_path: Path, text: str, name: str = "results.yaml") -> ReadDocument[ResultDocument]:
    path = tmp_path / name
    path.write_text(text)
    return read_free_document(ResultDocument, path, "results")


def _refusal(tmp_path: Path, text: str, name: str = "results.yaml") -> str:
    with pytest.raises(InvalidInput) as refused:
        _results(tmp_path, text, name)
    assert "\n" not in refused.value.message
    return refused.value.message


def _reasons(read: ReadDocument[ResultDocument]) -> dict[str, str]:
    return {item.path: item.reason for item in read.left_out}


def test_nested_numbers_become_metrics_named_by_their_path_in_the_evaluators_order(
    tmp_path: Path,
) -> None:
    read = _results(tmp_path, MEDPERF_RESULTS)
    metrics = read.document.metrics
    assert list(metrics) == [
        "auc_atelectasis",
        "auc_cardiomegaly",
        "auc_edema",
        "accuracy",
        "dice",
    ]
    assert metrics["auc_atelectasis"] == MetricValue(value=0.81)
    assert metrics["dice"] == MetricValue(value=0.70, lower=0.61, upper=0.78)
    assert (read.document.n_cases, read.document.n_positive) == (None, None)
    assert read.file_name == "results.yaml"


def test_nan_is_a_missing_value_not_a_reason_to_refuse(tmp_path: Path) -> None:
    read = _results(
        tmp_path,
        "a: .nan\nb: NaN\nc: null\nd: .inf\ne: -.inf\nf: {value: 0.5, lower: .nan, upper: 0.7}\n",
    )
    metrics = read.document.metrics
    assert [metrics[name].value for name in "abcde"] == [None] * 5
    assert metrics["f"] == MetricValue(value=0.5, lower=None, upper=0.7)
    assert read.left_out == []


def test_a_json_file_with_nan_is_mapped_the_same_way(tmp_path: Path) -> None:
    text = json.dumps({"dice": math.nan, "hd95": 4.5, "cases": [1, 2]})
    read = _results(tmp_path, text, "metrics.json")
    assert read.document.metrics == {
        "dice": MetricValue(value=None),
        "hd95": MetricValue(value=4.5),
    }
    assert _reasons(read) == {
        "cases": "a list of 2 items; lists (per-case values, say) are never sent"
    }


def test_per_case_lists_and_text_are_left_out_named_and_absent_from_the_document(
    tmp_path: Path,
) -> None:
    read = _results(tmp_path, MEDPERF_RESULTS)
    assert _reasons(read) == {
        "per_case_dice": "a list of 3 items; lists (per-case values, say) are never sent",
        "model_version": "text; only numbers are sent",
        "converged": "a yes/no value; only numbers are sent",
    }
    sent = read.document.model_dump_json()
    for private in ("0.91", "0.42", "per_case", "trained 2023", "converged"):
        assert private not in sent


def test_dates_python_objects_and_text_bounds_are_left_out(tmp_path: Path) -> None:
    read = _results(
        tmp_path,
        "when: 2024-05-01\n"
        "obj: !!python/object/apply:os.system [echo owned]\n"
        "dice: {value: 0.7, lower: low, upper: 0.8}\n",
    )
    assert _reasons(read) == {
        "when": "a value of another kind (date); only numbers are sent",
        "obj": "a value tagged tag:yaml.org,2002:python/object/apply:os.system; "
        "only numbers are sent",
        "dice/lower": "text; only numbers are sent",
    }
    assert read.document.metrics == {"dice": MetricValue(value=0.7, lower=None, upper=0.8)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- 0.5\n- 0.7\n", "a list of 2 items"),
        ("0.93\n", "a number"),
        ("just words\n", "text"),
    ],
)
def test_a_top_level_that_is_not_a_mapping_is_one_line(
    tmp_path: Path, text: str, kind: str
) -> None:
    assert _refusal(tmp_path, text) == (
        f"the cube's results.yaml is {kind}, not a mapping at the top level (results)"
    )


def test_an_empty_file_is_one_line(tmp_path: Path) -> None:
    # MedPerf's file outputs are created empty before the task: a cube that wrote nothing.
    assert _refusal(tmp_path, "") == "the cube wrote nothing in results.yaml (results)"


def test_invalid_yaml_is_one_line(tmp_path: Path) -> None:
    assert _refusal(tmp_path, "a: [1, 2\n").startswith(
        "the cube's results.yaml is not valid YAML: "
    )


def test_two_values_with_one_name_are_refused_naming_both(tmp_path: Path) -> None:
    assert _refusal(tmp_path, "AUC:\n  Label 1: 0.8\n  label-1: 0.7\n") == (
        "the cube's results.yaml has two values named 'auc_label_1' "
        "('AUC/Label 1' and 'AUC/label-1'); rename one (results)"
    )


def test_counts_are_taken_from_the_top_level(tmp_path: Path) -> None:
    read = _results(tmp_path, "n_cases: 120\nn_positive: 30.0\nauroc: 0.8\n")
    assert (read.document.n_cases, read.document.n_positive) == (120, 30)
    assert list(read.document.metrics) == ["auroc"]


def test_a_count_that_is_not_a_count_is_left_out(tmp_path: Path) -> None:
    read = _results(tmp_path, "n_cases: -3\nn_positive: many\nauroc: 0.8\n")
    assert (read.document.n_cases, read.document.n_positive) == (None, None)
    assert _reasons(read) == {
        "n_cases": "a number, not a count of cases",
        "n_positive": "text, not a count of cases",
    }


def test_a_medval_document_in_yaml_reads_as_itself(tmp_path: Path) -> None:
    text = "n_cases: 9\nn_positive: 3\nmetrics:\n  auroc: {value: 0.7, lower: 0.6, upper: 0.8}\n"
    read = _results(tmp_path, text)
    assert read.document == ResultDocument(
        n_cases=9, n_positive=3, metrics={"auroc": MetricValue(value=0.7, lower=0.6, upper=0.8)}
    )


def test_metrics_adds_nothing_to_the_names_even_beside_other_values(tmp_path: Path) -> None:
    read = _results(tmp_path, "metrics: {auroc: .nan}\nnote: hi\n")
    assert read.document.metrics == {"auroc": MetricValue(value=None)}
    assert _reasons(read) == {"note": "text; only numbers are sent"}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (("AUC", "Label 1"), "auc_label_1"),
        (("Dice (ET)",), "dice_et"),
        (("95th percentile",), "x_95th_percentile"),
        (("Hausdorff95", "Lesion-wise"), "hausdorff95_lesion_wise"),
        (("über",), "ber"),
    ],
)
def test_names_are_sanitised_to_medvals_metric_names(path: tuple[str, ...], name: str) -> None:
    assert metric_name(path) == name


def test_a_name_too_long_is_left_out(tmp_path: Path) -> None:
    long = "a" * 70
    read = _results(tmp_path, f"{long}: 0.5\nok: 1\n")
    assert list(read.document.metrics) == ["ok"]
    assert read.left_out == [
        LeftOut(path=long[:39] + "…", reason=f"its name {long!r} is not 1 to 64 characters long")
    ]


def test_metrics_beyond_the_limit_are_left_out_and_named(tmp_path: Path) -> None:
    text = "".join(f"m{i}: {i}\n" for i in range(MAX_METRICS + 3))
    read = _results(tmp_path, text)
    assert list(read.document.metrics) == [f"m{i}" for i in range(MAX_METRICS)]
    beyond = f"beyond the {MAX_METRICS} metrics medval sends"
    assert _reasons(read) == {f"m{i}": beyond for i in range(MAX_METRICS, MAX_METRICS + 3)}


def test_a_per_case_table_is_left_out_whole(tmp_path: Path) -> None:
    cases = "".join(f"  case-{i:03d}: {{dice: 0.{i:03d}}}\n" for i in range(MAX_TABLE_ENTRIES + 1))
    read = _results(tmp_path, f"mean_dice: 0.8\nper_case:\n{cases}")
    assert list(read.document.metrics) == ["mean_dice"]
    assert _reasons(read) == {
        "per_case": f"a mapping of {MAX_TABLE_ENTRIES + 1} entries (more than "
        f"{MAX_TABLE_ENTRIES}: per-case or per-item values are not sent)"
    }
    assert "case_0" not in read.document.model_dump_json()


def test_a_long_left_out_list_is_named_up_to_its_cap(tmp_path: Path) -> None:
    text = "".join(f"note{i}: text\n" for i in range(MAX_NAMED_LEFT_OUT + 7))
    read = _results(tmp_path, text)
    assert len(read.left_out) == MAX_NAMED_LEFT_OUT + 1
    assert read.left_out[-1] == LeftOut(path="…", reason="and 7 more values left out")


def test_aliases_cannot_make_the_walk_explode(tmp_path: Path) -> None:
    # Each level repeats the one before ten times: 10^7 values from a few hundred bytes.
    lines = ["l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    for level in range(1, 7):
        refs = ", ".join(f"{key}: *l{level - 1}" for key in "abcdefghij")
        lines.append(f"l{level}: &l{level} {{{refs}}}")
    assert _refusal(tmp_path, "\n".join(lines) + "\n") == (
        f"the cube's results.yaml holds more than {MAX_VISITED} values (results)"
    )


def test_yaml_nested_too_deep_without_brackets_is_one_line(tmp_path: Path) -> None:
    text = "".join("  " * level + "a:\n" for level in range(MAX_DOCUMENT_DEPTH + 2))
    text += "  " * (MAX_DOCUMENT_DEPTH + 2) + "b: 1\n"
    assert _refusal(tmp_path, text) == (
        f"the cube's results.yaml is nested deeper than {MAX_DOCUMENT_DEPTH} levels (results)"
    )


def test_the_files_safety_is_the_same_as_for_medvals_documents(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("auroc: 0.99\n")
    (tmp_path / "results.yaml").symlink_to(secret)
    with pytest.raises(InvalidInput) as refused:
        read_free_document(ResultDocument, tmp_path / "results.yaml", "results")
    assert refused.value.message == (
        "the cube's results.yaml is a symbolic link, not a file (results)"
    )
    big = "a: " + "1" * MAX_DOCUMENT_BYTES + "\n"
    assert "is larger than" in _refusal(tmp_path, big, "big.yaml")


def test_statistics_are_flattened_with_their_count(tmp_path: Path) -> None:
    path = tmp_path / "medperf_statistics.yaml"
    path.write_text(
        "n_cases: 40\n"
        "general_stats: {height: {mean: 512.0, std: .nan}, channels: 1}\n"
        "labels: {healthy: 30, sick: 10}\n"
        "source: hospital scanner 3\n"
        "ages: [61, 72, 55]\n"
    )
    read = read_free_document(DatasetStatistics, path, "statistics")
    assert read.document == DatasetStatistics(
        n_cases=40,
        values={
            "general_stats_height_mean": 512.0,
            "general_stats_height_std": None,
            "general_stats_channels": 1,
            "labels_healthy": 30,
            "labels_sick": 10,
        },
    )
    assert [item.path for item in read.left_out] == ["source", "ages"]


def test_statistics_flattened_out_of_a_mapping_keep_their_group(tmp_path: Path) -> None:
    path = tmp_path / "statistics.yaml"
    path.write_text("n_cases: 10\nband: {low: 2, high: 8}\nmean_age: 50.5\n")
    read = read_free_document(DatasetStatistics, path, "statistics")
    assert read.groups == {"band_low": "band", "band_high": "band"}
