"""``medval run --gpus``: a choice this machine cannot give is one line and exit 2,
before the server is asked anything (no login needed to see it) and with nothing stored
touched. The device folder is a fake one (``MEDVAL_DEVICE_ROOT``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import medval
from medval.core.errors import InvalidInput


def _run(tmp_path: Path, devices: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MEDVAL_HOME": str(tmp_path / "home"),
        "MEDVAL_DEVICE_ROOT": str(devices),
        "PYTHONPATH": str(Path(medval.__file__).parents[1]),
        "COLUMNS": "300",
    }
    return subprocess.run(
        [sys.executable, "-m", "medval", "run", "--yes", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("names", "gpus", "line"),
    [
        (
            ("null", "nvidiactl"),
            "7",
            "error: --gpus 7: this machine has no NVIDIA GPU (no {root}/nvidia0, nvidia1, ...); "
            "run with --gpus none",
        ),
        ((), "all", "error: --gpus all: this machine has no NVIDIA GPU (no {root}/nvidia0, "
         "nvidia1, ...); run with --gpus none"),
        (("nvidia0", "nvidia1"), "1,7",
         "error: --gpus 1,7: this machine has no GPU 7 (it has 0,1)"),
        (
            ("nvidia0",),
            "some",
            "error: --gpus takes all, none or GPU numbers separated by commas (0,1), not 'some'",
        ),
    ],
)  # fmt: skip
def test_a_gpu_choice_this_machine_cannot_give_is_one_line_and_exit_2(
    tmp_path: Path, names: tuple[str, ...], gpus: str, line: str
) -> None:
    root = tmp_path / "dev"
    root.mkdir()
    for name in names:
        (root / name).write_bytes(b"")
    home = tmp_path / "home"
    home.mkdir()
    (home / "kept.txt").write_text("stored")

    done = _run(tmp_path, root, "--gpus", gpus)

    assert done.returncode == InvalidInput.exit_code == 2
    assert done.stderr.splitlines() == [line.format(root=root)]
    assert done.stdout == ""
    assert sorted(path.name for path in home.iterdir()) == ["kept.txt"]
    assert (home / "kept.txt").read_text() == "stored"
