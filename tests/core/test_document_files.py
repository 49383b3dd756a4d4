"""Which file of a task's output is read (:mod:`medval.core.document_files`): by the
name a container format's spec binds, else medval's own names, strict for its own format."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest
from tests.core.test_document_mapping import MEDPERF_RESULTS

from medval.core.cube_spec import TASKS, CubeSpec, MountPoint, TaskSpec, load_cube_spec
from medval.core.document_files import read_task_document
from medval.core.documents import DatasetStatistics, MetricValue, ResultDocument
from medval.core.errors import InvalidInput
from medval.core.states import CubeKind


def _spec(spec_file: str, file_name: str | None = None) -> CubeSpec:
    points = None
    if file_name is not None:
        points = (MountPoint("output_path", PurePosixPath("/"), file_name, bind_file=True),)
    task = TaskSpec("evaluate", ("x",), TASKS[CubeKind.EVALUATOR]["evaluate"], mount_points=points)
    return CubeSpec("ev", CubeKind.EVALUATOR, {"evaluate": task}, False, spec_file=spec_file)


NATIVE = _spec("medval-cube.yaml")


def test_medvals_own_results_json_stays_strict(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(
        json.dumps({"n_cases": 1, "n_positive": 0, "metrics": {}, "note": "hi"})
    )
    with pytest.raises(InvalidInput) as refused:
        read_task_document(ResultDocument, NATIVE, "evaluate", tmp_path, "results")
    assert refused.value.message.startswith(
        "the cube's results.json is not a valid results document"
    )


def test_a_native_cube_may_write_results_yaml_instead(tmp_path: Path) -> None:
    (tmp_path / "results.yaml").write_text(MEDPERF_RESULTS)
    read = read_task_document(ResultDocument, NATIVE, "evaluate", tmp_path, "results")
    assert read.file_name == "results.yaml" and "accuracy" in read.document.metrics


def test_a_medperf_file_output_is_read_by_its_declared_name(tmp_path: Path) -> None:
    (tmp_path / "results.yaml").write_text("auroc: 0.1\n")  # not the declared file
    (tmp_path / "metrics_out.yaml").write_text("dice: 0.8\n")
    spec = _spec("container_config.yaml", "metrics_out.yaml")
    read = read_task_document(ResultDocument, spec, "evaluate", tmp_path, "results")
    assert read.file_name == "metrics_out.yaml"
    assert read.document.metrics == {"dice": MetricValue(value=0.8)}


def test_a_container_formats_results_json_is_mapped_not_strict(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"auroc": 0.8, "ids": ["p1"]}))
    spec = _spec("mlcube.yaml")
    read = read_task_document(ResultDocument, spec, "evaluate", tmp_path, "results")
    assert read.document.metrics == {"auroc": MetricValue(value=0.8)}
    assert [item.path for item in read.left_out] == ["ids"]


def test_no_results_file_at_all_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_task_document(ResultDocument, NATIVE, "evaluate", tmp_path, "results")
    assert refused.value.message == ("the cube wrote no results.json (nor results.yaml) (results)")


MEDPERF_STATISTICS_AT_THE_ROOT = """\
image: example/prep:0.1
tasks:
  prepare:
    input_volumes:
      data_path: {mount_path: /raw, type: directory}
      labels_path: {mount_path: /raw_labels, type: directory}
    output_volumes:
      output_path: {mount_path: /data, type: directory}
      output_labels_path: {mount_path: /labels, type: directory}
  sanity_check:
    input_volumes:
      data_path: {mount_path: /data, type: directory}
  statistics:
    input_volumes:
      data_path: {mount_path: /data, type: directory}
    output_volumes:
      output_path: {mount_path: /medperf_statistics.yaml, type: file}
"""

MLCUBE_EVALUATOR_FOLDER = """\
name: metrics
docker: {image: example/metrics:0.1}
tasks:
  evaluate:
    parameters:
      inputs: {predictions: predictions, labels: labels}
      outputs: {output_path: {type: directory, default: results}}
"""


def test_a_real_medperf_spec_names_the_statistics_file_it_binds(tmp_path: Path) -> None:
    cube = tmp_path / "cube"
    cube.mkdir()
    (cube / "container_config.yaml").write_text(MEDPERF_STATISTICS_AT_THE_ROOT)
    spec = load_cube_spec(cube, CubeKind.DATA_PREPARATOR)
    out = tmp_path / "statistics"
    out.mkdir()
    (out / "medperf_statistics.yaml").write_text("n_cases: 4\nlabels: {a: 3, b: 1}\n")
    read = read_task_document(DatasetStatistics, spec, "statistics", out, "statistics")
    assert read.file_name == "medperf_statistics.yaml"
    assert read.document == DatasetStatistics(n_cases=4, values={"labels_a": 3, "labels_b": 1})


def test_a_real_mlcube_spec_with_an_output_folder_is_read_like_a_native_one(
    tmp_path: Path,
) -> None:
    cube = tmp_path / "cube"
    cube.mkdir()
    (cube / "mlcube.yaml").write_text(MLCUBE_EVALUATOR_FOLDER)
    spec = load_cube_spec(cube, CubeKind.EVALUATOR)
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.yml").write_text("dice: 0.8\n")
    read = read_task_document(ResultDocument, spec, "evaluate", out, "results")
    assert read.file_name == "results.yml"
    assert read.document.metrics == {"dice": MetricValue(value=0.8)}
