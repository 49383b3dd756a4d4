"""Throwaway cubes for the runner tests: a spec, a probe script and its two mounts."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medval.core.cube_spec import PARAMETERS_FILE, SPEC_FILE, CubeSpec, load_cube_spec

# Lines every test cube starts with: its mounts as a dict, and a way to report back.
PREAMBLE = """\
import json, os, sys
args = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])

def report(value):
    with open(os.path.join(args["output_path"], "report.json"), "w") as handle:
        json.dump(value, handle)
"""


@dataclass
class Cube:
    """A model cube on disk with its ``infer`` task's two mounts ready."""

    folder: Path
    spec: CubeSpec
    data: Path
    output: Path

    @property
    def mounts(self) -> dict[str, Path]:
        return {"data_path": self.data, "output_path": self.output}

    def report(self) -> Any:
        return json.loads((self.output / "report.json").read_text())


CubeMaker = Callable[..., Cube]


def write_cube(
    root: Path, script: str, parameters: str | None, data_files: dict[str, str] | None
) -> Cube:
    """A model cube whose ``infer`` runs ``script`` (after PREAMBLE), under ``root``."""
    folder = root / "cube"
    folder.mkdir(parents=True)
    (folder / SPEC_FILE).write_text(
        "name: probe\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    (folder / "infer.py").write_text(PREAMBLE + textwrap.dedent(script))
    if parameters is not None:
        (folder / PARAMETERS_FILE).write_text(parameters)
    data = root / "data"
    data.mkdir()
    for name, content in (data_files or {}).items():
        (data / name).write_text(content)
    return Cube(folder, load_cube_spec(folder), data, root / "output")
