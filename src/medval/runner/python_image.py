"""The client's own Python as a container image, built locally without any registry.

A cube that declares no image of its own runs its ``python`` entrypoint in this image
under Docker or Podman, just as the local runner runs it on the client's Python. The
image is a root filesystem holding, at the same paths as on the host:

- the interpreter and its standard library (``sys.base_prefix``; without its test suite
  and its own site-packages, which a virtual environment does not use);
- the virtual environment medval runs from (``sys.prefix``), so numpy, pandas and
  scikit-learn import inside;
- ``/bin/sh`` and every shared library these need (found with ``ldd``), and the
  merged-``/usr`` links (``/lib``, ``/lib64``, ``/bin``...);
- empty mount points: ``/cube``, ``/mlcube_io``, ``/tmp``, ``/proc``, ``/dev``, ``/sys``.

Nothing else: no ``/etc``, no ``/home``, no ``/var``. It is streamed as a tar into
``docker import`` / ``podman import`` and tagged by a key of the runtime (Python
version, paths and installed distributions), so it is built once per runtime.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO

from medval.core.errors import SandboxError
from medval.runner.python_runtime import PythonRuntime

IMAGE_REPOSITORY = "medval-python"
# Bumped when what goes into the image changes, so old tags are not reused.
_LAYOUT_VERSION = "2"  # 2: nothing under /tmp in the image
_SKIPPED_STDLIB = (
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    f"config-{sys.version_info.major}.{sys.version_info.minor}-x86_64-linux-gnu",
)
_MOUNT_POINTS = ("cube", "mlcube_io", "tmp", "proc", "dev", "sys")
_TOP_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")


@dataclass(frozen=True)
class PythonImagePlan:
    """What goes into the image: the interpreter, its stdlib, medval's dependencies."""

    runtime: PythonRuntime
    distributions: tuple[metadata.Distribution, ...]

    @classmethod
    def for_runtime(
        cls, runtime: PythonRuntime, tops: tuple[str, ...] = ("medval",)
    ) -> PythonImagePlan:
        """The interpreter plus ``tops`` and their runtime dependencies (what a cube may
        import); a name not installed here is refused."""
        for top in tops:
            try:
                metadata.distribution(top)
            except metadata.PackageNotFoundError:
                raise SandboxError(
                    f"the Python image needs {top}, which is not installed here"
                ) from None
        return cls(runtime, tuple(_dependency_closure(*tops)))

    def tag(self) -> str:
        """``medval-python:<key>``: the same runtime always gets the same tag."""
        digest = hashlib.sha256()
        digest.update(f"{_LAYOUT_VERSION}\n{sys.version}\n{self.runtime.executable}\n".encode())
        for root in self.runtime.roots:
            digest.update(f"{root}\n".encode())
        for distribution in sorted(f"{d.name}=={d.version}" for d in self.distributions):
            digest.update(f"{distribution}\n".encode())
        return f"{IMAGE_REPOSITORY}:{digest.hexdigest()[:16]}"

    def files(self) -> Iterator[Path]:
        """The interpreter, its standard library, the venv's skeleton, each distribution."""
        base = Path(sys.base_prefix)
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        stdlib = base / "lib" / version
        yield from _walk(stdlib, skip={stdlib / name for name in _SKIPPED_STDLIB})
        yield from sorted((base / "lib").glob("libpython*"))
        yield from sorted((base / "bin").glob("python*"))
        venv = Path(sys.prefix)
        if venv != base:
            yield from (p for p in sorted((venv / "bin").glob("python*")))
            yield from (p for p in (venv / "pyvenv.cfg", venv / "lib64") if p.exists())
        for distribution in self.distributions:
            for file in distribution.files or ():
                path = Path(os.path.normpath(str(distribution.locate_file(file))))
                if path.exists() and path.is_relative_to(venv / "lib"):
                    yield path
        yield self.runtime.executable


def _dependency_closure(*tops: str) -> Iterator[metadata.Distribution]:
    """``tops`` and every distribution they require, as installed (extras left out)."""
    seen: set[str] = set()
    todo = list(tops)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # Only required on other platforms or Python versions.
        yield distribution
        for requirement in distribution.requires or ():
            if "extra ==" not in requirement:
                match = re.match(r"[A-Za-z0-9._-]+", requirement)
                if match:
                    todo.append(match.group(0))


def write_root_filesystem(plan: PythonImagePlan, out: IO[bytes]) -> None:
    """Stream the image's root filesystem as an uncompressed tar into ``out``."""
    files = list(plan.files())
    shell = Path("/bin/sh")
    libraries = shared_libraries([*files, shell.resolve()])
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name in _TOP_LINKS:
            top = Path("/") / name
            if top.is_symlink():
                _add(tar, top)
        for point in _MOUNT_POINTS:
            info = tarfile.TarInfo(point)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if point == "tmp" else 0o755
            tar.addfile(info)
        # Already in the tar: a directory written twice makes both engines refuse the layer
        # (a runtime under /tmp, as in a checkout there, would write "tmp" again).
        written = {f"/{name}" for name in _MOUNT_POINTS}
        written |= {f"/{name}" for name in _TOP_LINKS if (Path("/") / name).is_symlink()}
        for path in [shell, shell.resolve(), *sorted(libraries), *files]:
            # Nothing under /tmp: every task gets a fresh tmpfs there, which would hide it
            # (and Podman would copy it into that tmpfs, charging it to the task's memory).
            # A runtime that lives under /tmp is bound from the host by the runner instead.
            if not _canonical(path).is_relative_to("/tmp"):
                _add_with_parents(tar, path, written)


def shared_libraries(paths: Iterable[Path]) -> set[Path]:
    """The shared libraries (and the links that name them) that ELF files in ``paths`` load."""
    elves = [str(p) for p in paths if p.is_file() and not p.is_symlink() and _is_elf(p)]
    found: set[Path] = set()
    for start in range(0, len(elves), 64):
        answer = subprocess.run(
            ["ldd", *elves[start : start + 64]], capture_output=True, text=True, check=False
        ).stdout
        for match in _LDD_LINE.finditer(answer):
            found.add(Path(os.path.normpath(match.group(1))))
    closure: set[Path] = set()
    for library in found:
        # Keep the name ldd saw (often a link) and what it points to.
        closure.add(library)
        closure.add(library.resolve())
    return {path for path in closure if path.exists()}


def build_python_image(program: str, plan: PythonImagePlan) -> None:
    """``<program> import`` the root filesystem under ``plan.tag()``; raise on failure."""
    command = [program, "import", "--change", "WORKDIR /cube", "-", plan.tag()]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None and process.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    try:
        with process.stdin as pipe:
            write_root_filesystem(plan, pipe)
    except BrokenPipeError:
        pass  # The engine gave up; its message says why.
    finally:
        process.wait()
        reader.join()
    if process.returncode != 0:
        message = b"".join(errors).decode(errors="replace").strip().splitlines()
        raise SandboxError(
            f"{program} could not build the medval Python image: "
            + (message[-1] if message else f"exit code {process.returncode}")
        )


def _walk(root: Path, skip: set[Path]) -> Iterator[Path]:
    yield root
    for directory, subdirs, names in os.walk(root):
        here = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if here / d not in skip)
        for name in sorted(subdirs):
            yield here / name
        for name in sorted(names):
            yield here / name


def _add_with_parents(tar: tarfile.TarFile, path: Path, written: set[str]) -> None:
    target = _canonical(path)
    for parent in reversed(target.parents):
        if parent != Path("/") and str(parent) not in written:
            written.add(str(parent))
            info = tarfile.TarInfo(str(parent).lstrip("/"))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    if str(target) in written:
        return
    written.add(str(target))
    _add(tar, path, arcname=str(target).lstrip("/"))


def _canonical(path: Path) -> Path:
    """``/lib/x/libc.so.6`` is stored as ``/usr/lib/x/libc.so.6`` when /lib links to usr/lib."""
    parts = Path(os.path.normpath(path)).parts
    if len(parts) > 1 and parts[1] in _TOP_LINKS and Path("/", parts[1]).is_symlink():
        return Path("/", parts[1]).resolve().joinpath(*parts[2:])
    return Path(*parts)


def _add(tar: tarfile.TarFile, path: Path, arcname: str | None = None) -> None:
    info = tar.gettarinfo(str(path), arcname=arcname or str(path).lstrip("/"))
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    # Readable and (where it was) executable by the cube's non-root user.
    info.mode = (info.mode | 0o444 | (0o111 if info.mode & 0o100 else 0)) & ~0o022
    if info.isfile():
        with path.open("rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False
