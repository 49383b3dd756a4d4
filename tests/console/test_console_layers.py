"""The console is a face: it may import ``medval.client`` and ``medval.core``, never
``medval.server`` (the hosted side) or ``medval.cli`` (the other face)."""

from __future__ import annotations

import ast
from pathlib import Path

import medval.console

FORBIDDEN = ("medval.server", "medval.cli")


def test_the_console_imports_neither_the_server_nor_the_cli() -> None:
    folder = Path(medval.console.__file__).parent
    imported = []
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.append((module.name, node.module))
            elif isinstance(node, ast.Import):
                imported += [(module.name, alias.name) for alias in node.names]
    assert any(name.startswith("medval.client") for _, name in imported)
    # "medval.cli" is a prefix of "medval.client": compare whole dotted parts.
    faces = [(m, n) for m, n in imported if f"{n}.".startswith(tuple(f"{f}." for f in FORBIDDEN))]
    assert faces == []
