"""tests/cpu_time.py: a pytest run with MEDVAL_TEST_CPU_DIR set writes each module's CPU
seconds, its children's included, and the summary ranks the modules by them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import cpu_time

ROOT = Path(__file__).resolve().parents[1]
BURNING = """
import subprocess, sys, time

def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

def test_itself():
    burn(0.6)

def test_in_a_child():
    code = "import time\\nend = time.process_time() + 0.6\\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
"""
IDLE = """
import time

def test_waits():
    time.sleep(0.6)
"""


def test_each_module_gets_its_own_and_its_childrens_cpu_seconds(tmp_path: Path) -> None:
    (tmp_path / "test_burning.py").write_text(BURNING)
    (tmp_path / "test_idle.py").write_text(IDLE)
    folder = tmp_path / "cpu"
    pytest_run = [sys.executable, "-m", "pytest", "-q", "-p", "tests.cpu_time"]
    done = subprocess.run(
        [*pytest_run, "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, cpu_time.FOLDER_VARIABLE: str(folder)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = cpu_time.totals(folder)
    assert set(found) == {"test_burning.py", "test_idle.py"}
    assert 1.2 <= found["test_burning.py"] < 3.0
    assert found["test_idle.py"] < 0.3


def test_the_summary_ranks_modules_over_every_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cpu-1.tsv").write_text("tests/a.py\t3.00\ntests/b.py\t1.00\n")
    (tmp_path / "cpu-2.tsv").write_text("tests/b.py\t5.00\n")
    assert cpu_time.main([str(tmp_path), "1"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown == [
        f"== CPU seconds by test module, every lane ({tmp_path}): 9 s in all",
        "     6.0 s  66.7%  tests/b.py",
    ]


def test_nothing_recorded_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cpu_time.main([str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out == (
        f"== CPU seconds by test module: none recorded in {tmp_path / 'none'}\n"
    )
