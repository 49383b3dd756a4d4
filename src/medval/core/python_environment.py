"""A native cube's Python environment: the wheels it ships and the lock that pins them.

A cube in medval's own format may declare, in its ``medval-cube.yaml``::

    environment:
      python:
        requirements: requirements.lock   # pip's hash-checking format
        wheels: wheels/                    # the wheels it ships, inside the cube folder

The lock is what ``pip install --require-hashes`` reads: one requirement per line (lines
may continue with ``\\``), each pinned exactly (``name==version``) with at least one
``--hash=sha256:<64 hex>``; comments and blank lines are allowed; nothing else (no
``--index-url``, no ``-e``, no ``-r``, no URL): everything comes from the cube's wheels.

The wheels folder holds wheels only, each one named by the lock (its name and version)
and with a sha256 the lock pins for it, and at least one wheel for each requirement.
A source distribution is refused: building one runs its ``setup.py`` (the cube's own
code) outside any sandbox, while installing a wheel only unpacks files. The site builds
the environment from these offline (:mod:`medval.runner.python_environments`).

What is read here is cheap (the spec and the lock, at every load); :func:`check_wheels`
hashes every wheel, and runs at registration and before each build. Every problem is
one line naming the file and what is wrong. Imports no framework.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from medval.core.errors import InvalidInput
from medval.core.hashing import sha256_file

_HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")
# What a folder of wheels must not hold: source distributions, which pip would build.
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")
_KEYS = ("requirements", "wheels")


@dataclass(frozen=True)
class PinnedRequirement:
    """One line of the lock: a distribution, its exact version, the hashes it may have."""

    name: NormalizedName
    version: str
    hashes: frozenset[str]
    line: int
    # False when its environment marker (``; python_version < "3.10"``) excludes this
    # Python: pip skips it, and the cube need ship no wheel of it.
    applies: bool = True


@dataclass(frozen=True)
class PythonEnvironment:
    """What a cube declares: its lock and wheels folder (paths inside the cube folder)
    and the lock's requirements as read."""

    requirements: str
    wheels: str
    pinned: tuple[PinnedRequirement, ...]


@dataclass(frozen=True)
class ShippedWheel:
    """A wheel of the cube, checked against the lock."""

    path: Path
    sha256: str


def parse_environment(where: Path, folder: Path, raw: Any) -> PythonEnvironment | None:
    """The ``environment`` of a native spec at ``where`` (None when absent)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"python"}:
        raise InvalidInput(f"{where}: 'environment' must be a mapping with 'python'")
    python = raw["python"]
    if not isinstance(python, dict) or not all(isinstance(key, str) for key in python):
        raise InvalidInput(f"{where}: 'environment.python' must be a mapping")
    unknown = sorted(set(python) - set(_KEYS))
    missing = [key for key in _KEYS if key not in python]
    if unknown or missing:
        raise InvalidInput(
            f"{where}: 'environment.python' takes requirements and wheels"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    lock = inside_cube(where, folder, python["requirements"], "environment.python.requirements")
    wheels = inside_cube(where, folder, python["wheels"], "environment.python.wheels")
    lock_path, wheels_path = folder / lock, folder / wheels
    if not lock_path.is_file() or lock_path.is_symlink():
        raise InvalidInput(f"{where}: the requirements lock {lock} is not a file of the cube")
    if not wheels_path.is_dir() or wheels_path.is_symlink():
        raise InvalidInput(f"{where}: the wheels folder {wheels} is not a folder of the cube")
    return PythonEnvironment(lock, wheels, read_lock(folder / lock, lock))


def inside_cube(where: Path, folder: Path, raw: Any, what: str) -> str:
    """A relative path that stays inside the cube folder, through no link."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{where}: '{what}' must be a path inside the cube folder")
    path = PurePosixPath(raw.strip())
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise InvalidInput(f"{where}: '{what}' ({raw}) is outside the cube folder")
    for depth in range(1, len(path.parts) + 1):
        if (folder / PurePosixPath(*path.parts[:depth])).is_symlink():
            raise InvalidInput(f"{where}: '{what}' ({raw}) goes through a link")
    return path.as_posix()


def read_lock(path: Path, label: str) -> tuple[PinnedRequirement, ...]:
    """Every requirement of a hash-checking lock, each pinned with ``==`` and hashed."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{label}: cannot be read ({exc.__class__.__name__})") from None
    pinned: dict[str, PinnedRequirement] = {}
    for number, line in _logical_lines(text):
        where = f"{label} line {number}"
        words = line.split()
        if words[0].startswith("-"):
            raise InvalidInput(
                f"{where}: option {words[0].split('=')[0]} is not allowed: "
                "a cube's environment comes from its own wheels only"
            )
        options = [i for i, word in enumerate(words) if word.startswith("--")]
        first = options[0] if options else len(words)
        requirement = _requirement(where, " ".join(words[:first]))
        hashes = set()
        for word in words[first:]:
            match = _HASH.match(word)
            if match is None:
                raise InvalidInput(
                    f"{where}: {word.split('=')[0]} is not allowed: only --hash=sha256:<64 hex>"
                )
            hashes.add(match.group(1))
        if not hashes:
            raise InvalidInput(f"{where}: {requirement.name} has no --hash=sha256:...")
        name = canonicalize_name(requirement.name)
        if name in pinned:
            raise InvalidInput(f"{where}: {requirement.name} is pinned twice")
        version = next(iter(requirement.specifier)).version
        applies = requirement.marker is None or requirement.marker.evaluate()
        pinned[name] = PinnedRequirement(name, version, frozenset(hashes), number, applies)
    if not pinned:
        raise InvalidInput(f"{label}: pins no requirement")
    return tuple(pinned.values())


def _requirement(where: str, text: str) -> Requirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise InvalidInput(f"{where}: not a requirement ({exc})") from None
    specifiers = list(requirement.specifier)
    if requirement.url is not None:
        raise InvalidInput(f"{where}: {requirement.name} is a URL: pin it with ==VERSION")
    if (
        len(specifiers) != 1
        or specifiers[0].operator != "=="
        or specifiers[0].version.endswith("*")
    ):
        raise InvalidInput(f"{where}: {requirement.name} is not pinned with ==VERSION")
    return requirement


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, content) of each non-empty line, continuations joined and
    comments (``#`` at the start or after a space) removed, as pip reads them."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(pending).strip()
        pending = []
        if joined:
            lines.append((start, joined))
    if pending and " ".join(pending).strip():
        lines.append((start, " ".join(pending).strip()))
    return lines


def check_wheels(folder: Path, environment: PythonEnvironment) -> tuple[ShippedWheel, ...]:
    """Every file of the wheels folder, hashed: a wheel the lock names, with a hash it
    pins; and a wheel for each requirement. Anything else is one line."""
    label = str(folder / environment.wheels)
    by_name = {requirement.name: requirement for requirement in environment.pinned}
    shipped: list[ShippedWheel] = []
    covered: set[str] = set()
    for path in sorted((folder / environment.wheels).iterdir()):
        name = path.name
        if path.is_symlink() or not path.is_file():
            raise InvalidInput(f"{label}: {name} is not a wheel file (only .whl files belong)")
        if name.endswith(_SDIST_SUFFIXES):
            raise InvalidInput(
                f"{label}: {name} is a source distribution: wheels only, as building one "
                "would run its own setup code outside the sandbox"
            )
        try:
            project, version, _, _ = parse_wheel_filename(name)
        except InvalidWheelFilename:
            raise InvalidInput(f"{label}: {name} is not a wheel (only .whl files belong)") from None
        requirement = by_name.get(project)
        if requirement is None or str(version) != requirement.version:
            raise InvalidInput(
                f"{label}: {name} is not named by {environment.requirements} "
                f"({project}=={version} is not pinned there)"
            )
        digest = sha256_file(path)
        if digest not in requirement.hashes:
            raise InvalidInput(
                f"{label}: {name} has sha256 {digest[:12]}…, which {environment.requirements} "
                f"does not pin for {project}=={version}: refused (tampered or another build)"
            )
        shipped.append(ShippedWheel(path, digest))
        covered.add(project)
    for requirement in environment.pinned:
        if requirement.applies and requirement.name not in covered:
            raise InvalidInput(
                f"{label}: holds no wheel of {requirement.name}=={requirement.version}, "
                f"pinned by {environment.requirements} line {requirement.line}"
            )
    return tuple(shipped)
