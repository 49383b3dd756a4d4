"""A cube given as separate files, the MedPerf way, assembled into a cube folder.

MedPerf registers a container from its config (``-m``), a parameters file (``-p``) and an
additional-files tarball (``-a``). medval takes the same three as local files and lays
them out as a cube folder would hold them, so the cube archive (and its hash) covers all
of them exactly as a folder's would::

    <name>/container_config.yaml      (or mlcube.yaml: the config keeps its format)
    <name>/workspace/parameters.yaml
    <name>/workspace/additional_files.tar.gz

``<name>`` is the config's folder's name, which a MedPerf cube (whose config names
none) is registered under unless ``--name`` says otherwise. Every problem is one line.
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medval.core.cube_spec import PARAMETERS_FILE, SPEC_FILE, read_yaml_mapping
from medval.core.errors import InvalidInput
from medval.core.formats import medperf, mlcube
from medval.core.formats.mapping import ADDITIONAL_FILES_ARCHIVE, WORKSPACE
from medval.core.hashing import unpack_archive
from medval.core.scratch import make_scratch, scratch_folder


@dataclass(frozen=True)
class CubeParts:
    """A container config and, optionally, its parameters file and additional files."""

    container_config: Path
    parameters: Path | None = None
    additional_files: Path | None = None


def spec_file_for(config: Path) -> str:
    """Which format a config file is in: by its name, else by what it holds."""
    if config.name in (mlcube.SPEC_FILE, medperf.SPEC_FILE):
        return config.name
    if config.name == SPEC_FILE:
        raise InvalidInput(
            f"{config} is medval's own spec: register its folder, not --container-config"
        )
    raw = read_yaml_mapping(config)
    return mlcube.SPEC_FILE if "docker" in raw else medperf.SPEC_FILE


@contextmanager
def assembled(parts: CubeParts) -> Iterator[Path]:
    """A temporary cube folder holding the parts (removed afterwards)."""
    for path, what in (
        (parts.container_config, "--container-config"),
        (parts.parameters, "--parameters"),
        (parts.additional_files, "--additional-files"),
    ):
        if path is not None and not path.is_file():
            raise InvalidInput(f"{what} {path} is not a file")
    spec_file = spec_file_for(parts.container_config)
    scratch = make_scratch(None, "medval-cube-parts-")  # swept if this command is killed
    try:
        name = parts.container_config.resolve().parent.name or "cube"
        folder = scratch / name
        (folder / WORKSPACE).mkdir(parents=True)
        shutil.copyfile(parts.container_config, folder / spec_file)
        if parts.parameters is not None:
            read_yaml_mapping(parts.parameters)  # A parameters file is a YAML mapping.
            shutil.copyfile(parts.parameters, folder / WORKSPACE / PARAMETERS_FILE)
        if parts.additional_files is not None:
            check_additional_files(parts.additional_files)
            shutil.copyfile(parts.additional_files, folder / WORKSPACE / ADDITIONAL_FILES_ARCHIVE)
        try:
            yield folder
        except InvalidInput as exc:
            # Name the author's own file, never this scratch folder.
            message = str(exc).replace(str(folder / spec_file), str(parts.container_config))
            raise InvalidInput(message.replace(str(folder), str(parts.container_config))) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_additional_files(archive: Path) -> None:
    """An additional-files tarball that every run will be able to unpack: a gzip'd tar
    of plain files and folders, none outside it (checked by unpacking it once)."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(
            f"additional files {archive} are not a .tar.gz archive: {exc.__class__.__name__}"
        ) from None
    with scratch_folder("medval-additional-check-") as scratch:
        try:
            unpack_archive(archive.read_bytes(), scratch / "files")
        except InvalidInput as exc:
            raise InvalidInput(f"additional files {archive}: {exc}") from None
