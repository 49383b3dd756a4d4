"""Cube formats that users already have, read as they are into a :class:`CubeSpec`.

- ``medval-cube.yaml``: medval's own (read by :mod:`medval.core.cube_spec`);
- ``mlcube.yaml``: an MLCube (:mod:`.mlcube`);
- ``container_config.yaml``: a MedPerf container (:mod:`.medperf`).

Both container formats name an image, and their tasks' parameters are mapped onto
medval's fixed mounts by name (:mod:`.mapping`, where the table is).
"""

from __future__ import annotations

from pathlib import Path

from medval.core.cube_spec import SPEC_FILE, CubeSpec
from medval.core.formats import medperf, mlcube
from medval.core.states import CubeKind

FORMAT_FILES = (SPEC_FILE, mlcube.SPEC_FILE, medperf.SPEC_FILE)


def spec_files_in(folder: Path) -> list[str]:
    """The spec files of every known format present at the top of ``folder``."""
    return [name for name in FORMAT_FILES if (folder / name).is_file()]


def load_format_spec(folder: Path, spec_file: str, kind: CubeKind | None) -> CubeSpec:
    """Read an MLCube or MedPerf folder (``spec_file`` is one of theirs)."""
    if spec_file == mlcube.SPEC_FILE:
        return mlcube.load(folder, kind)
    return medperf.load(folder, kind)
