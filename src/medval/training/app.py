"""A training cube: a Flower app (its ServerApp and ClientApp), and its FAB pinned by hash.

A training cube is a Flower app directory laid out as Flower's own templates make it:
``pyproject.toml`` with ``[tool.flwr.app]`` (publisher, the ``serverapp`` and
``clientapp`` components, the run-config keys it reads) and medval's own table::

    [tool.medval.training]
    final-model = "final_model.npz"   # the file the ServerApp writes in its working dir
    model-cube = "model_cube"         # a model cube folder (its ``infer`` task) that reads
                                      # that file, put beside its code, as its weights

It must not name ``[tool.flwr.federations]``: medval decides where it runs (and ``flwr``
rewrites that table in place, which would break the hash). The cube is pinned by the
sha256 of its FAB (Flower App Bundle), built by Flower's own ``flwr build`` on a private
copy of the directory; ``flwr build`` is reproducible, so the same directory always gives
the same hash. Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.errors import HashMismatch, InvalidInput, TrainingError
from medval.training.flower_env import FlowerInstall

PYPROJECT = "pyproject.toml"
# A FAB is at most 10 MB (Flower's limit); what it unpacks to is held to this.
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_CONFIG_VALUE = bool | int | float | str


@dataclass(frozen=True)
class FlowerApp:
    """What medval reads of a training cube's ``pyproject.toml``."""

    name: str
    version: str
    publisher: str
    serverapp: str
    clientapp: str
    config: dict[str, _CONFIG_VALUE]
    final_model: str
    model_cube: str | None = None

    @property
    def config_keys(self) -> set[str]:
        return set(self.config)


@dataclass(frozen=True)
class BuiltFab:
    path: Path
    sha256: str


def read_app(directory: Path) -> FlowerApp:
    """The Flower app in ``directory``, or one line saying what it lacks."""
    pyproject = directory / PYPROJECT
    if not pyproject.is_file():
        raise InvalidInput(f"{directory}: no {PYPROJECT} (a Flower app has one)")
    return app_from_pyproject(pyproject.read_bytes(), str(pyproject))


def read_fab_app(fab: Path) -> FlowerApp:
    """The Flower app inside the FAB file ``fab``."""
    try:
        with zipfile.ZipFile(fab) as archive:
            data = archive.read(PYPROJECT)
    except (OSError, zipfile.BadZipFile, KeyError):
        raise InvalidInput(f"{fab.name}: not a Flower app bundle (FAB)") from None
    return app_from_pyproject(data, f"{fab.name}:{PYPROJECT}")


def app_from_pyproject(data: bytes, source: str) -> FlowerApp:
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"{source}: not TOML ({error})") from None
    project = _table(document, "project")
    tool = _table(document, "tool")
    flwr = _table(tool, "flwr")
    if "federations" in flwr:
        raise InvalidInput(
            f"{source}: [tool.flwr.federations] is not allowed in a training cube (medval "
            "chooses where it runs; remove the table)"
        )
    app = flwr.get("app")
    if not isinstance(app, dict):
        raise InvalidInput(f"{source}: no [tool.flwr.app] table (not a Flower app)")
    components = _table(app, "components")
    for component in ("serverapp", "clientapp"):
        if not isinstance(components.get(component), str) or not components[component]:
            raise InvalidInput(
                f"{source}: no {component} in [tool.flwr.app.components] (a training cube "
                "has a ServerApp and a ClientApp)"
            )
    medval = _table(_table(tool, "medval"), "training")
    final_model = medval.get("final-model")
    if not isinstance(final_model, str) or not final_model:
        raise InvalidInput(
            f"{source}: no final-model in [tool.medval.training] (the file the ServerApp "
            "writes the final model to, in its working directory)"
        )
    relative = PurePosixPath(final_model)
    if relative.is_absolute() or ".." in relative.parts or "\\" in final_model:
        raise InvalidInput(
            f"{source}: final-model {final_model!r} must be a path inside the ServerApp's "
            "working directory"
        )
    model_cube = medval.get("model-cube")
    if model_cube is not None:
        folder = PurePosixPath(model_cube) if isinstance(model_cube, str) else None
        if folder is None or folder.is_absolute() or ".." in folder.parts or not model_cube:
            raise InvalidInput(
                f"{source}: model-cube in [tool.medval.training] must name a folder inside the app"
            )
    for key in ("name", "version"):
        if not isinstance(project.get(key), str) or not project[key]:
            raise InvalidInput(f"{source}: no {key} in [project]")
    publisher = app.get("publisher")
    if not isinstance(publisher, str) or not publisher:
        raise InvalidInput(f"{source}: no publisher in [tool.flwr.app]")
    return FlowerApp(
        name=project["name"],
        version=project["version"],
        publisher=publisher,
        serverapp=components["serverapp"],
        clientapp=components["clientapp"],
        config=_flat_config(_table(app, "config")),
        final_model=str(relative),
        model_cube=model_cube,
    )


def build_fab(directory: Path, out_dir: Path, flower: FlowerInstall) -> BuiltFab:
    """The FAB of the app in ``directory``, built by ``flwr build`` on a private copy (so
    nothing Flower writes touches the original), saved in ``out_dir``."""
    app = read_app(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="medval-fab-") as scratch:
        copy = Path(scratch) / app.name
        shutil.copytree(
            directory,
            copy,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", ".flwr", "*.fab"),
        )
        built = _flwr_build(copy, Path(scratch) / "out", flower)
        data = built.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        target = out_dir / built.name
        target.write_bytes(data)
    return BuiltFab(path=target, sha256=digest)


def built_sha256(app_dir: Path, flower: FlowerInstall) -> str:
    """The hash of the FAB ``flwr build`` makes of ``app_dir`` (what ``flwr run``
    submits when it runs that directory); written to a scratch directory, not kept."""
    with tempfile.TemporaryDirectory(prefix="medval-fab-") as scratch:
        built = _flwr_build(app_dir, Path(scratch) / "out", flower)
        return hashlib.sha256(built.read_bytes()).hexdigest()


def verify_fab(fab: Path, sha256: str) -> None:
    """Raise ``HashMismatch`` unless the file ``fab`` has the registered hash."""
    try:
        found = file_sha256(fab)
    except OSError as error:
        raise InvalidInput(f"training cube {fab}: cannot read it ({error.strerror})") from None
    if found != sha256.lower():
        raise HashMismatch(
            f"training cube {fab.name} does not match its registered hash (registered "
            f"sha256 {sha256[:12]}..., found {found[:12]}...)"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack_fab(fab: Path, destination: Path) -> Path:
    """The app files of ``fab`` (not its ``.info/`` manifest) written under
    ``destination``; refuses entries that would land outside it."""
    destination.mkdir(parents=True, exist_ok=False)
    total = 0
    try:
        with zipfile.ZipFile(fab) as archive:
            for entry in archive.infolist():
                parts = PurePosixPath(entry.filename).parts
                if entry.is_dir() or parts[:1] == (".info",):
                    continue
                if (
                    entry.filename.startswith("/")
                    or ".." in parts
                    or "\\" in entry.filename
                    or (entry.external_attr >> 16) & 0o170000 == 0o120000
                ):
                    raise InvalidInput(f"{fab.name}: entry {entry.filename!r} is not allowed")
                total += entry.file_size
                if total > _MAX_UNPACKED_BYTES:
                    raise InvalidInput(f"{fab.name}: unpacks to more than 200 MB")
                target = destination.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(entry))
    except (OSError, zipfile.BadZipFile) as error:
        raise InvalidInput(f"{fab.name}: not a readable FAB ({error})") from None
    return destination


def _flwr_build(app_dir: Path, out_dir: Path, flower: FlowerInstall) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    home = out_dir / ".flwr-home"
    home.mkdir()
    result = subprocess.run(
        [flower.command("flwr"), "build", "--app", str(app_dir)],
        cwd=out_dir,
        env=flower.environment(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    fabs = sorted(out_dir.glob("*.fab"))
    if result.returncode != 0 or len(fabs) != 1:
        reason = _last_words(result.stdout + "\n" + result.stderr)
        raise TrainingError(f"flwr build of the training cube failed: {reason}")
    return fabs[0]


def _last_words(output: str) -> str:
    lines = [line.strip(" │╭╰─╮╯") for line in output.splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("Error")]
    return " ".join(meaningful[-2:])[:300] or "no output"


def _table(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key, {})
    return value if isinstance(value, dict) else {}


def _flat_config(table: Mapping[str, Any], prefix: str = "") -> dict[str, _CONFIG_VALUE]:
    """Flower flattens nested run-config tables into dotted keys; so does this."""
    flat: dict[str, _CONFIG_VALUE] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat_config(value, f"{name}."))
        elif isinstance(value, bool | int | float | str):
            flat[name] = value
    return flat
