"""Tiny cubes in medval's own format, written by a test from Python snippets, and a site.

Each script starts with ``ARGS``: it imports ``json, os, shutil, sys`` and reads its mounts
from ``--NAME=PATH`` into ``args``. A site is a raw export whose ``data/mode.txt`` tells
the cubes how to behave there (so one cube can pass the demo data and misbehave at a
hospital).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

ARGS = 'import json, os, shutil, sys\nargs = dict(a[2:].split("=", 1) for a in sys.argv[1:])\n'


def write_cube(root: Path, name: str, kind: str, scripts: dict[str, str]) -> Path:
    """A cube folder ``root/name``: one task per script (``prepare.py`` is ``prepare``)."""
    folder = root / name
    folder.mkdir(parents=True)
    tasks = "".join(
        f"  {file.removesuffix('.py')}: {{entrypoint: [python, {file}]}}\n" for file in scripts
    )
    (folder / "medval-cube.yaml").write_text(f"name: {name}\nkind: {kind}\ntasks:\n{tasks}")
    for file, body in scripts.items():
        (folder / file).write_text(ARGS + textwrap.dedent(body))
    return folder


def write_site(root: Path, mode: str, labels: str = "id,y\n1,0\n") -> Path:
    """A raw export at ``root``: ``data/mode.txt`` says ``mode``; ``labels/labels.csv``."""
    for part in ("data", "labels"):
        (root / part).mkdir(parents=True)
    (root / "data" / "mode.txt").write_text(mode)
    (root / "labels" / "labels.csv").write_text(labels)
    return root
