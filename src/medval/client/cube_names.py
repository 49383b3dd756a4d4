"""How messages name a cube: by its kind and registered name, never by the scratch
folder it was unpacked in.

Imports: the core.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medval.core.errors import MedvalError
from medval.core.schemas import CubePublic


def describe(cube: CubePublic) -> str:
    """How messages name a cube: its kind and registered name (``model logistic-v2``)."""
    return f"{cube.kind.value.replace('_', ' ')} {cube.name}"


@contextmanager
def named_as(cube: CubePublic, folder: Path) -> Iterator[None]:
    """Errors raised inside name the cube, not the scratch folder it is unpacked in."""
    with folder_named(describe(cube), folder):
        yield


@contextmanager
def folder_named(name: str, folder: Path) -> Iterator[None]:
    """Errors raised inside say ``name`` where they would say ``folder`` (a scratch copy)."""
    try:
        yield
    except MedvalError as exc:
        for path in sorted({str(folder), str(folder.resolve())}, key=len, reverse=True):
            exc.message = exc.message.replace(f"{path}/", f"{name}: ").replace(path, name)
        exc.args = (exc.message,)
        raise
