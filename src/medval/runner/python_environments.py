"""Cubes' own Python environments, built at the site from the wheels they ship.

A native cube that declares ``environment.python`` (:mod:`medval.core.python_environment`)
runs on a virtual environment of its own instead of the client's: made from the client's
base interpreter (``sys.base_prefix``, the Python medval's own virtual environment was
made from) with ``python -m venv --without-pip``, then filled by the client's pip::

    pip install --isolated --no-index --no-deps --require-hashes --only-binary=:all:
        --no-compile --find-links <cube>/wheels --target <env>/lib/pythonX.Y/site-packages
        -r <cube>/requirements.lock

Nothing is downloaded (``--no-index``, ``--isolated``: no index, no configuration from the
host), nothing is resolved (``--no-deps``: the lock is the whole list), and every wheel
is checked twice against the lock's hashes (by :func:`check_wheels` first, for one clear
line, and by pip's hash-checking mode). Only wheels are installed, never built: unpacking
a wheel runs none of the cube's code, and this build runs outside the sandbox.

The environment is kept under the workspace's ``environments/<key>``, where ``key`` is
the hash of the lock's bytes, the wheels' hashes and the base interpreter (its path,
version and platform): the same cube, or another with the same lock and wheels, reuses
it. It is built in a temporary folder beside it and renamed into place when whole, under
a lock file per key (``<key>.lock``), so a half-built environment is never used and
builders side by side (threads or processes) build it once. Its modules are compiled
with the final path in their code objects, so tracebacks name the files the task sees.

May import ``core`` only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from medval.core.errors import SandboxError
from medval.core.python_environment import PythonEnvironment, ShippedWheel, check_wheels

# Bumped when how an environment is built changes, so older ones are not reused.
_LAYOUT_VERSION = "1"
DESCRIPTION_FILE = "medval-environment.json"
_BUILD_SECONDS = 600
# Compile every module of site-packages (argv[1]) as if it lay under argv[3], not argv[2].
_COMPILE = (
    "import compileall, sys; "
    "compileall.compile_dir(sys.argv[1], quiet=2, stripdir=sys.argv[2], prependdir=sys.argv[3])"
)


@dataclass(frozen=True)
class BaseInterpreter:
    """The interpreter environments are made from, and what identifies it."""

    executable: Path

    @classmethod
    def current(cls) -> BaseInterpreter:
        """The Python installation medval's own virtual environment was made from."""
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return cls(Path(sys.base_prefix) / "bin" / version)

    def identity(self) -> str:
        return "\n".join(
            (
                str(self.executable.resolve()),
                sys.version,
                sys.implementation.cache_tag or "",
                platform.machine(),
            )
        )

    @property
    def site_packages(self) -> str:
        """Where packages go inside an environment made from it."""
        return f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def environment_key(lock: bytes, wheels: tuple[ShippedWheel, ...], base: BaseInterpreter) -> str:
    """The cache key: the lock's bytes, each wheel's name and hash, the interpreter."""
    digest = hashlib.sha256(f"medval-environment {_LAYOUT_VERSION}\n".encode())
    digest.update(hashlib.sha256(lock).hexdigest().encode())
    for wheel in sorted(wheels, key=lambda w: w.path.name):
        digest.update(f"\n{wheel.path.name} {wheel.sha256}".encode())
    digest.update(f"\n{base.identity()}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class EnvironmentStore:
    """The folder holding built environments, one per key (see the module docstring)."""

    folder: Path
    base: BaseInterpreter = field(default_factory=BaseInterpreter.current)

    def environment_for(self, cube_folder: Path, environment: PythonEnvironment, cube: str) -> Path:
        """The built environment of a cube (built now if absent): its folder."""
        if not self.base.executable.is_file():
            raise SandboxError(
                f"cube {cube!r}: no base Python at {self.base.executable} to build its "
                "environment from"
            )
        wheels = check_wheels(cube_folder, environment)
        lock = (cube_folder / environment.requirements).read_bytes()
        key = environment_key(lock, wheels, self.base)
        self.folder.mkdir(parents=True, exist_ok=True)
        root = self.folder.resolve()  # the path the sandbox shows it at: no link in it
        final = root / key
        if final.is_dir():
            return final
        with _locked(root / f"{key}.lock"):
            if final.is_dir():  # built by another while we waited
                return final
            for leftover in root.glob(f".building-{key[:16]}-*"):
                shutil.rmtree(leftover, ignore_errors=True)  # a builder that was killed
            building = Path(tempfile.mkdtemp(prefix=f".building-{key[:16]}-", dir=root))
            try:
                self._build(building, final, cube_folder, environment, cube)
                _describe(building, key, environment, wheels, self.base)
                _make_readable(building)
                os.rename(building, final)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
        return final

    def _build(
        self,
        building: Path,
        final: Path,
        cube_folder: Path,
        environment: PythonEnvironment,
        cube: str,
    ) -> None:
        site = self.base.site_packages
        what = f"cube {cube!r}: its Python environment"
        _run([str(self.base.executable), "-m", "venv", "--without-pip", str(building)], what)
        _run(
            [
                sys.executable, "-m", "pip", "install",
                "--isolated", "--no-index", "--no-deps", "--require-hashes",
                "--only-binary=:all:", "--no-compile", "--disable-pip-version-check",
                "--no-cache-dir", "--no-warn-script-location", "--quiet",
                "--find-links", str(cube_folder / environment.wheels),
                "--target", str(building / site),
                "-r", str(cube_folder / environment.requirements),
            ],
            what,
        )  # fmt: skip
        # Compiled now, with the path the task will see (the folder after its rename).
        # A file this Python cannot compile is left as it is, as pip leaves it: wheels
        # ship such files (PyTorch's wheel for 3.11 holds a test helper in 3.12 syntax),
        # and only importing one would fail. Only the compiler itself failing is an error.
        _run([str(building / "bin" / "python"), "-c", _COMPILE, str(building / site),
              str(building), str(final)], what)  # fmt: skip


def _run(argv: list[str], what: str) -> None:
    """Run one build step with no environment from the host; its failure is one line."""
    try:
        answer = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=_BUILD_SECONDS,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"{what} could not be built: {exc}") from None
    if answer.returncode != 0:
        lines = [line.strip() for line in answer.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")]
        reason = (errors or lines or [f"exit status {answer.returncode}"])[0]
        raise SandboxError(f"{what} could not be built: {reason}")


def _describe(
    building: Path,
    key: str,
    environment: PythonEnvironment,
    wheels: tuple[ShippedWheel, ...],
    base: BaseInterpreter,
) -> None:
    """What the environment holds, for whoever looks in the cache."""
    description = {
        "key": key,
        "base_interpreter": str(base.executable),
        "python": sys.version.split()[0],
        "requirements": [f"{r.name}=={r.version}" for r in environment.pinned if r.applies],
        "wheels": {wheel.path.name: wheel.sha256 for wheel in wheels},
    }
    (building / DESCRIPTION_FILE).write_text(json.dumps(description, indent=2) + "\n")


def _make_readable(root: Path) -> None:
    """Readable by the sandbox's user, writable by nobody but us; links left alone
    (``bin/python`` links to the base interpreter: never chmod through it)."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (processes and threads alike wait their turn)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
