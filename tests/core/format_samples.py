"""Small cube folders in the MLCube and MedPerf formats, written for these tests."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

MLCUBE_MODEL = """\
name: chest-model
docker:
  image: example/chest-model:0.1
platform: {accelerator_count: 0}
tasks:
  infer:
    parameters:
      inputs:
        data_path: {type: directory, default: data}
        parameters_file: parameters.yaml
      outputs:
        output_path: {type: directory, default: predictions}
"""

MLCUBE_PREPARATOR = """\
name: chest-prep
docker: {image: example/chest-prep:0.1}
tasks:
  prepare:
    parameters:
      inputs: {data_path: raw, labels_path: raw_labels}
      outputs: {output_path: data, output_labels_path: labels}
  sanity_check:
    parameters:
      inputs: {data_path: data, labels_path: labels}
  statistics:
    parameters:
      inputs: {data_path: data, labels_path: labels}
      outputs: {output_path: {type: file, default: statistics.json}}
  download:   # a task of its own that medval does not use
    parameters: {outputs: {data_dir: downloads}}
"""

MLCUBE_EVALUATOR = """\
name: chest-metrics
docker: {image: example/chest-metrics:0.1}
tasks:
  evaluate:
    entrypoint: python3 /app/metrics.py
    parameters:
      inputs: {predictions: predictions, labels: labels}
      outputs: {output_path: {type: directory, default: results}}
"""

MEDPERF_MODEL = """\
container_type: DockerImage
image: example/chest-model:0.1
tasks:
  infer:
    input_volumes:
      data_path: {mount_path: /volumes/data, type: directory}
      parameters_file: {mount_path: /volumes/params/parameters_file.yaml, type: file}
      additional_files: {mount_path: /volumes/additional_files, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/predictions, type: directory}
"""

MEDPERF_PREPARATOR = """\
image: example/chest-prep:0.1
tasks:
  prepare:
    run_args: {command: python3 /app/main.py prepare}
    input_volumes:
      data_path: {mount_path: /volumes/raw_data, type: directory}
      labels_path: {mount_path: /volumes/raw_labels, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/data, type: directory}
      output_labels_path: {mount_path: /volumes/labels, type: directory}
  sanity_check:
    run_args: {command: [python3, /app/main.py, sanity_check]}
    input_volumes:
      data_path: {mount_path: /volumes/data, type: directory}
  statistics:
    run_args: {entrypoint: python3, command: /app/main.py statistics}
    input_volumes:
      data_path: {mount_path: /volumes/data, type: directory}
      labels_path: {mount_path: /volumes/labels, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/statistics/statistics.json, type: file}
"""

MEDPERF_EVALUATOR = """\
container_type: DockerImage
image: example/chest-metrics:0.1
tasks:
  evaluate:
    input_volumes:
      predictions: {mount_path: /volumes/predictions, type: directory}
      labels: {mount_path: /volumes/labels, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/results, type: directory}
"""


def write_cube(folder: Path, spec_file: str, text: str, parameters: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / spec_file).write_text(text)
    if parameters:
        (folder / "workspace").mkdir(exist_ok=True)
        (folder / "workspace" / "parameters.yaml").write_text("threshold: 0.5\n")
    return folder


def write_additional_files(folder: Path, files: dict[str, bytes]) -> Path:
    """An ``additional_files.tar.gz`` as an author would make it (``tar czf``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600  # Readable by its author only: medval must widen it.
            tar.addfile(info, io.BytesIO(data))
    path = folder / "additional_files.tar.gz"
    path.write_bytes(buffer.getvalue())
    return path
