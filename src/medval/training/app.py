"""A training cube's FAB (Flower App Bundle): built, pinned by hash, checked, unpacked.

What a training cube is, and how its ``pyproject.toml`` is read, is
:mod:`medval.core.flower_app` (one reader for the registration and for the runs). The
cube is pinned by the sha256 of its FAB, built by Flower's own ``flwr build`` on a private
copy of the directory; ``flwr build`` is reproducible, so the same directory always gives
the same hash. Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.core.errors import HashMismatch, InvalidInput, TrainingError
from medval.core.flower_app import FlowerApp, load_flower_app, read_flower_app
from medval.training.flower_env import FlowerInstall

PYPROJECT = "pyproject.toml"
# A FAB is at most 10 MB (Flower's limit); what it unpacks to is held to this.
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class BuiltFab:
    path: Path
    sha256: str


def read_app(directory: Path) -> FlowerApp:
    """The Flower app in ``directory`` (:func:`medval.core.flower_app.load_flower_app`)."""
    return load_flower_app(directory)


def read_fab_app(fab: Path) -> FlowerApp:
    """The Flower app inside the FAB file ``fab``."""
    try:
        with zipfile.ZipFile(fab) as archive:
            data = archive.read(PYPROJECT)
    except (OSError, zipfile.BadZipFile, KeyError):
        raise InvalidInput(f"{fab.name}: not a Flower app bundle (FAB)") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{fab.name}:{PYPROJECT}: not UTF-8 text") from None
    return read_flower_app(text, f"{fab.name}:{PYPROJECT}")


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
