"""A broken YAML or JSON file a user wrote is one line naming the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.cube_spec import read_yaml_mapping
from medval.core.errors import InvalidInput
from medval.trust.bundle import read_bundle


def test_a_yaml_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    spec = tmp_path / "mlcube.yaml"
    spec.write_text("name: demo\ntasks:\n  infer:\n    parameters: {inputs: [a, b}\n")
    with pytest.raises(InvalidInput) as raised:
        read_yaml_mapping(spec)
    assert str(raised.value) == (
        f"{spec}: not valid YAML: line 4, column 31: expected ',' or ']', but got '}}'"
    )


def test_a_tab_in_yaml_is_placed_too(tmp_path: Path) -> None:
    spec = tmp_path / "parameters.yaml"
    spec.write_text("threshold: 0.5\n\tbad: 1\n")
    with pytest.raises(InvalidInput) as raised:
        read_yaml_mapping(spec)
    assert str(raised.value).startswith(f"{spec}: not valid YAML: line 2, column 1: ")
    assert "\n" not in str(raised.value)


def test_a_json_error_says_where() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_bundle('{"format": "medval-bundle/1",\n "records": [1, 2,]\n}')
    assert str(raised.value).endswith("not JSON: line 2, column 19: Expecting value")
