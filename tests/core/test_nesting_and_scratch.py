"""Deep YAML and JSON are one line, never a RecursionError; a killed command's temporary
folders are swept by the next one, a live process's never."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medval.core.cube_spec import load_cube_spec, read_yaml_mapping
from medval.core.document_files import read_free_document
from medval.core.documents import ResultDocument
from medval.core.errors import InvalidInput
from medval.core.nesting import MAX_DEPTH, NestedTooDeep, load_json, load_yaml
from medval.core.scratch import make_scratch, scratch_folder, sweep_leftovers

DEEP_YAML = "[" * 10_000
DEEP_JSON = '{"a":' * 100_000


def test_deep_yaml_is_refused_before_it_is_built() -> None:
    with pytest.raises(NestedTooDeep, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(DEEP_YAML)
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_deep_json_is_refused() -> None:
    with pytest.raises(NestedTooDeep, match="nested too deep to read"):
        load_json("[" * 100_000)
    assert load_json("[[1]]") == [[1]]


@pytest.mark.parametrize("name", ["medval-cube.yaml", "mlcube.yaml", "container_config.yaml"])
def test_a_deep_cube_spec_is_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(DEEP_YAML)
    with pytest.raises(InvalidInput) as caught:
        load_cube_spec(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / name}: not valid YAML (nested deeper than {MAX_DEPTH} levels)"
    )


def test_a_deep_parameters_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "parameters.yaml"
    path.write_text("a:\n" + "".join(f"{'  ' * (i + 1)}b{i}:\n" for i in range(5000)))
    with pytest.raises(InvalidInput, match="not valid YAML \\(nested deeper than 100 levels\\)"):
        read_yaml_mapping(path)


def test_a_deep_json_results_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(DEEP_JSON)
    with pytest.raises(InvalidInput) as caught:
        read_free_document(ResultDocument, path, "results")
    assert str(caught.value) == "the cube's results.json is nested deeper than 8 levels (results)"


def test_leftovers_of_a_killed_process_are_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from medval.core.scratch import make_scratch;"
            "f = make_scratch(Path(sys.argv[1]), 'medval-image-');"
            "(f / 'image.tar').write_bytes(b'x'); print(f)",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    left = Path(child.stdout.strip())  # its process has ended without removing it
    assert (left / "image.tar").is_file()
    other_kind = make_scratch(tmp_path, "medval-stage-")
    not_ours = tmp_path / "medval-image-by-hand"
    not_ours.mkdir()

    with scratch_folder("medval-image-", tmp_path) as mine:
        assert mine.name.startswith(f"medval-image-p{os.getpid()}-")
        assert not left.exists()
        assert sweep_leftovers(tmp_path, "medval-image-") == []  # a live process's: kept
        assert mine.is_dir()
    assert not mine.exists()
    assert other_kind.is_dir() and not_ours.is_dir()
