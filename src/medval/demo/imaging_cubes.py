"""The imaging demo's cube folders, built from the templates shipped in the package.

Each cube declares its own Python environment (``requirements.lock``, committed); the
wheels the lock pins are not committed: ``make imaging-wheels`` fetches them once into a
folder (``.imaging-wheels`` by default) and each build copies in the ones its lock names.
The threshold model shares the evaluator's lock (numpy, scipy, nibabel), so a site builds
that environment once for both.

The learned model is the PyTorch segmenter cube (``cubes/segmenter_torch``: a tiny 2D
U-Net, its weights in its additional files). Its wheels (PyTorch's is 190 MB) are not in
the imaging wheels folder: ``make segmenter-wheels`` fetches them into the template's own
``wheels/``, and the build copies them from there.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from medval.core.errors import InvalidInput
from medval.core.python_environment import read_lock

PREPARATOR = "brain-mask-prep"
EVALUATOR = "brain-mask-evaluator"
THRESHOLD_MODEL = "brain-mask-threshold"
LEARNED_MODEL = "brain-mask-unet"
_TEMPLATES = {
    PREPARATOR: "imaging_prep",
    EVALUATOR: "imaging_evaluator",
    THRESHOLD_MODEL: "imaging_threshold",
    LEARNED_MODEL: "segmenter_torch",
}
# The cubes whose wheels are in their template's own folder, and what fetches them.
_OWN_WHEELS = {LEARNED_MODEL: "make segmenter-wheels"}
LOCK = "requirements.lock"
WHEELS = "wheels"
DECLARATIONS = "imaging_declarations.yaml"
DEFAULT_WHEELS = Path(".imaging-wheels")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", WHEELS)


@contextmanager
def templates() -> Iterator[Path]:
    with resources.as_file(resources.files("medval.demo") / "cubes") as path:
        yield Path(path)


def _copy_wheels(lock: Path, wheels: Path, dest: Path, fetch: str = "make imaging-wheels") -> None:
    """The wheels ``lock`` pins, from ``wheels`` into ``dest`` (their hashes are checked
    when the cube is registered and before every run); ``fetch``: what fetches them."""
    if not wheels.is_dir():
        raise InvalidInput(f"the imaging cubes' wheels folder {wheels} is missing: run {fetch}")
    available: dict[tuple[str, str], Path] = {}
    for path in wheels.glob("*.whl"):
        try:
            name, version, _, _ = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        available[(name, str(version))] = path
    dest.mkdir()
    for pinned in read_lock(lock, LOCK):
        wheel = available.get((canonicalize_name(pinned.name), pinned.version))
        if wheel is None:
            raise InvalidInput(
                f"{wheels} has no wheel of {pinned.name}=={pinned.version}: run {fetch}"
            )
        shutil.copyfile(wheel, dest / wheel.name)


def build_cube(name: str, dest: Path, wheels: Path = DEFAULT_WHEELS) -> Path:
    """One imaging cube, ``dest/name``, with the wheels of its lock."""
    if name not in _TEMPLATES:
        raise ValueError(f"unknown cube {name!r}; known cubes: {', '.join(_TEMPLATES)}")
    target = dest / name
    if target.exists():
        raise FileExistsError(f"{target} already exists; build into an empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    with templates() as folder:
        shutil.copytree(folder / _TEMPLATES[name], target, ignore=_IGNORE)
        if name == THRESHOLD_MODEL:
            shutil.copyfile(folder / _TEMPLATES[EVALUATOR] / LOCK, target / LOCK)
        if name in _OWN_WHEELS:
            source, fetch = folder / _TEMPLATES[name] / WHEELS, _OWN_WHEELS[name]
        else:
            source, fetch = wheels, "make imaging-wheels"
        _copy_wheels(target / LOCK, source, target / WHEELS, fetch)
    spec = target / "medval-cube.yaml"
    spec.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", spec.read_text(), count=1))
    return target


def build_all_cubes(dest: Path, wheels: Path = DEFAULT_WHEELS) -> dict[str, Path]:
    """The imaging benchmark's cubes: preparation, evaluator, reference (threshold) model,
    and the learned model a vendor brings."""
    return {name: build_cube(name, dest, wheels) for name in _TEMPLATES}


def copy_declarations(dest: Path) -> Path:
    """The imaging benchmark's declarations (dice primary, hd95, surface_dice) in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with templates() as folder:
        return Path(shutil.copy(folder / DECLARATIONS, dest / "declarations.yaml"))
