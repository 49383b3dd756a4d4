"""Shell completion: the script 'medval completion SHELL' prints, run by a real bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _complete_in_bash(tmp_path: Path, words: str, current: int) -> list[str]:
    """What bash offers after ``words`` (the word at ``current`` being typed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    medval = bin_dir / "medval"  # the script calls 'medval' by name: this interpreter's
    medval.write_text(f'#!/bin/sh\nexec {sys.executable} -m medval "$@"\n')
    medval.chmod(0o755)
    script = subprocess.run(
        [str(medval), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    probe = (
        f"{script}\n"
        f"COMP_WORDS=({words}); COMP_CWORD={current}\n"
        "_medval_completion medval\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_bash_completes_commands_and_sub_commands(tmp_path: Path) -> None:
    assert _complete_in_bash(tmp_path, "medval datas", 1) == ["dataset"]
    offered = _complete_in_bash(tmp_path, "medval dataset reg", 2)
    assert offered == ["register"]


def test_the_zsh_script_names_medval() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "medval", "completion", "zsh"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("#compdef medval")
    assert "_MEDVAL_COMPLETE=complete_zsh medval" in done.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "medval", "completion", "fish"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "'fish' is not one of 'bash', 'zsh'" in done.stderr
