"""A benchmark's demo data: where its raw data and labels are, in either layout.

Two layouts are read, as a folder or as a ``.tar.gz`` of one:

- medval's own: ``data/`` and ``labels/`` at the top;
- MedPerf's: a ``paths.yaml`` at the top naming both folders relative to it::

      data_path: demo_data/images
      labels_path: demo_data/labels

  (MedPerf's optional ``metadata_path`` is for preparation cubes that take a third
  input; medval's preparation tasks take data and labels only, so a demo dataset that
  names one is refused rather than run without it.)

The paths must stay inside the folder and name folders, not links: the demo data is
unpacked on every model owner's and data owner's machine and handed to a sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.core.cube_spec import read_yaml_mapping
from medval.core.errors import InvalidInput

PATHS_FILE = "paths.yaml"
_KEYS = ("data_path", "labels_path")


@dataclass(frozen=True)
class DemoDataFolders:
    """The two folders the preparation cube's ``prepare`` task receives."""

    data: Path
    labels: Path


def locate(folder: Path) -> DemoDataFolders:
    """The data and labels folders of demo data unpacked at ``folder``."""
    paths_file = folder / PATHS_FILE
    if paths_file.is_symlink() or paths_file.exists():
        return _from_paths_file(folder, paths_file)
    missing = [name for name in ("data", "labels") if not _is_folder(folder / name)]
    if missing:
        raise InvalidInput(
            f"demo data {folder} needs a {PATHS_FILE} (MedPerf's layout) or 'data' and "
            f"'labels' folders; it has no {' or '.join(repr(m) for m in missing)}"
        )
    return DemoDataFolders(folder / "data", folder / "labels")


def _from_paths_file(folder: Path, paths_file: Path) -> DemoDataFolders:
    if not paths_file.is_file() or paths_file.is_symlink():
        raise InvalidInput(f"{paths_file} must be a plain file")
    raw = read_yaml_mapping(paths_file)
    if raw.get("metadata_path") is not None:
        raise InvalidInput(
            f"{paths_file} names a metadata_path: medval's preparation tasks take data and "
            "labels only"
        )
    unknown = sorted(str(key) for key in raw if key not in (*_KEYS, "metadata_path"))
    if unknown:
        raise InvalidInput(
            f"{paths_file}: unknown key {', '.join(unknown)} (it names {' and '.join(_KEYS)})"
        )
    found = [_inside(folder, paths_file, raw.get(key), key) for key in _KEYS]
    return DemoDataFolders(found[0], found[1])


def _inside(folder: Path, paths_file: Path, raw: object, key: str) -> Path:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{paths_file}: '{key}' must be a path relative to it")
    relative = PurePosixPath(raw.strip())
    if relative.is_absolute() or ".." in relative.parts:
        raise InvalidInput(f"{paths_file}: '{key}' ({raw}) must stay inside the demo data")
    path = folder.joinpath(*relative.parts)
    # Every step is checked: a link anywhere could lead out of the folder.
    step = folder
    for part in relative.parts:
        step = step / part
        if step.is_symlink():
            raise InvalidInput(f"{paths_file}: '{key}' ({raw}) goes through a link")
    if not _is_folder(path):
        raise InvalidInput(f"{paths_file}: '{key}' ({raw}) is not a folder in the demo data")
    return path


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()
