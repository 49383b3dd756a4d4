"""What the client keeps on disk, and freeing the parts it can fetch or make again.

Caches (cube and image archives, unpacked images, cubes' Python environments, demo data,
scratch folders, task logs)
are re-downloaded, re-verified or re-made when needed, so cleaning them loses nothing.
Prepared datasets and local results are the data owner's work: they are listed, never
cleaned; only the outputs of results already uploaded can be freed, on request.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from medval.client.workspace import SEALED_SUFFIX, Workspace
from medval.core.errors import InvalidInput


class Area(StrEnum):
    """A part of the workspace, by what it holds."""

    CUBES = "cubes"
    IMAGES = "images"
    ENVIRONMENTS = "environments"
    DEMO_DATA = "demo-data"
    SCRATCH = "scratch"
    LOGS = "logs"
    DATASETS = "datasets"
    RESULTS = "results"
    AUDIT = "audit"


CACHES = (
    Area.CUBES,
    Area.IMAGES,
    Area.ENVIRONMENTS,
    Area.DEMO_DATA,
    Area.SCRATCH,
    Area.LOGS,
)
WHAT = {
    Area.CUBES: "cube and image archives (downloaded again, verified, when needed); private "
    "models' sealed only (never in clear)",
    Area.IMAGES: "cube images unpacked for the local runner (unpacked again when needed)",
    Area.ENVIRONMENTS: "cubes' Python environments from their wheels (built again when needed)",
    Area.DEMO_DATA: "benchmarks' demo data (downloaded again when needed)",
    Area.SCRATCH: "unpacked cubes and compatibility tests left by interrupted runs",
    Area.LOGS: "the cube task logs and their times",
    Area.DATASETS: "prepared datasets: never removed by medval storage clean",
    Area.RESULTS: "local results; unsent ones are never removed",
    Area.AUDIT: "the local audit log: never removed by medval storage clean",
}


@dataclass(frozen=True)
class AreaUsage:
    area: Area
    path: Path
    entries: int
    bytes: int
    cache: bool
    holds: str


def area_path(workspace: Workspace, area: Area) -> Path:
    """Where an area's files are: under the workspace, but for environments kept in the
    machine's shared folder (``MEDVAL_ENVIRONMENTS``)."""
    if area is Area.ENVIRONMENTS and workspace.shared_environments is not None:
        return workspace.shared_environments
    return workspace.home / area.value


def shared(workspace: Workspace, area: Area) -> bool:
    """Whether the area is the machine's, shared with other workspaces (never cleaned
    from one of them: what another workspace built is not this one's to remove)."""
    return area is Area.ENVIRONMENTS and workspace.shared_environments is not None


def usage(workspace: Workspace) -> list[AreaUsage]:
    """Every area of the workspace with its size on disk."""
    rows = []
    for area in Area:
        path = area_path(workspace, area)
        entries = sorted(path.iterdir()) if path.is_dir() else []
        rows.append(
            AreaUsage(
                area=area,
                path=path,
                entries=len(entries),
                bytes=sum(_size(entry) for entry in entries),
                cache=area in CACHES,
                holds=WHAT[area] + _sealed_count(area, entries) + _shared_note(workspace, area),
            )
        )
    return rows


def _sealed_count(area: Area, entries: list[Path]) -> str:
    """How many of the cached archives are private models', sealed (never held in clear)."""
    if area is not Area.CUBES:
        return ""
    sealed = sum(1 for entry in entries if entry.name.endswith(SEALED_SUFFIX))
    return f"; {sealed} sealed" if sealed else ""


def _shared_note(workspace: Workspace, area: Area) -> str:
    if not shared(workspace, area):
        return ""
    return "; this machine's, shared with other workspaces (MEDVAL_ENVIRONMENTS): never cleaned"


def clean(workspace: Workspace, areas: list[Area], uploaded_results: bool = False) -> int:
    """Remove the given cache areas (and, if asked, the folders of uploaded results);
    returns the bytes freed. Prepared datasets and unsent results are never touched, nor
    the machine's shared environments (:func:`shared`): the caller leaves them out."""
    freed = 0
    for area in areas:
        if area not in CACHES:
            raise ValueError(f"{area.value} is not a cache")
        if shared(workspace, area):
            raise ValueError(f"{area.value} is shared with other workspaces")
        path = workspace.home / area.value
        if path.is_symlink():  # medval makes folders here, never links: not ours to empty
            raise InvalidInput(f"{path} is a link, not a folder medval made; nothing was removed")
    for area in areas:
        path = workspace.home / area.value
        if path.is_dir():
            freed += _size(path)
            shutil.rmtree(path)
    if uploaded_results:
        for result in workspace.results():
            if result.uploaded_at is not None:
                folder = workspace.result_dir(result.key)
                freed += _size(folder) - _size(folder / "result.json")
                for entry in folder.iterdir():
                    if entry.name != "result.json":
                        _remove(entry)
    return freed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _size(path: Path) -> int:
    """Bytes on disk under ``path``, links not followed."""
    if not path.exists() and not path.is_symlink():
        return 0
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                continue
    return total
