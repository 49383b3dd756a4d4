"""Dependencies point inward: the inner rooms import only the rooms their docstrings name
(read from each module's own import statements, the ones at run time and for types)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import medval

SOURCE = Path(medval.__file__).parent

# room -> the medval rooms it may import besides itself
ALLOWED = {
    "core": set(),
    "stats": {"core"},
    "trust": {"core"},
    "look": set(),
    "report": {"core", "stats", "look"},
}


def _imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "medval":
                names = [f"medval.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "medval" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_imports_only_inward(room: str) -> None:
    wrong = {}
    for path in sorted((SOURCE / room).rglob("*.py")):
        outside = _imported_rooms(path) - ALLOWED[room] - {room, "__init__"}
        outside.discard("__version__")
        if outside:
            wrong[str(path.relative_to(SOURCE))] = sorted(outside)
    assert wrong == {}
