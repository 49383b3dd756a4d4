"""Cube template scripts run as the runner would run them: one ``--NAME=PATH`` per mount,
in the cube's folder, on this Python (which has nibabel, pydicom and scipy); no sandbox."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

CUBES = Path(__file__).resolve().parents[2] / "src" / "medval" / "demo" / "cubes"


def run_script(cube: str, script: str, **mounts: Path) -> subprocess.CompletedProcess[str]:
    folder = CUBES / cube
    args = [sys.executable, str(folder / script), *(f"--{k}={v}" for k, v in mounts.items())]
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=300)


def load_module(cube: str, name: str) -> types.ModuleType:
    """A cube's helper module, executed in-process (no bytecode written into the cube)."""
    path = CUBES / cube / f"{name}.py"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module
