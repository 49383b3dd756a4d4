"""The ``medval`` program as a process of its own (``cli.main.run``): what it prints and
exits with, and how it treats the garbage collector while it starts (issue 14)."""

from __future__ import annotations

import gc
import subprocess
import sys
import tomllib
from pathlib import Path

from medval import __version__
from medval.cli.context import output_console
from medval.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _medval(args: list[str], home: Path, probe: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m medval ARGS``, after ``probe`` (code run first in the same process)."""
    program = f"{probe}\nimport runpy\nrunpy.run_module('medval', run_name='__main__')\n"
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"MEDVAL_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_the_console_script_and_python_m_medval_are_the_program() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"medval": "medval.cli.main:run"}
    assert "run()" in (ROOT / "src" / "medval" / "__main__.py").read_text()


def test_the_program_prints_and_exits_as_main_does(tmp_path: Path) -> None:
    listed = _medval(["results", "list", "--local"], tmp_path)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "(no local results)\n", "")
    version = _medval(["--version"], tmp_path)
    assert (version.returncode, version.stdout) == (0, f"medval {__version__}\n")
    unknown = _medval(["results", "show", "not-a-number"], tmp_path)
    assert unknown.returncode == 2
    assert "'not-a-number' is not a valid integer" in unknown.stderr


def test_the_command_runs_with_the_collector_on_and_start_up_frozen(tmp_path: Path) -> None:
    """Paused while the command is imported, then start-up's objects frozen and the
    collector on for the command's own work (a long run collects its garbage)."""
    probe = (
        "import atexit, gc\n"
        "from medval.client.workspace import Workspace\n"
        "seen = []\n"
        "def results(self):\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count()))\n"
        "    return []\n"
        "Workspace.results = results\n"
        "atexit.register(lambda: print('seen', *seen[0]))\n"
    )
    done = _medval(["results", "list", "--local"], tmp_path, probe)
    assert done.returncode == 0, done.stderr
    printed, seen = done.stdout.splitlines()
    assert printed == "(no local results)"
    word, enabled, frozen = seen.split()
    assert (word, enabled) == ("seen", "True")
    assert int(frozen) > 10_000  # typer, pydantic, rich and medval's modules (0 unfrozen)


def test_main_in_a_test_process_leaves_its_collector_alone(tmp_path: Path) -> None:
    frozen = gc.get_freeze_count()
    assert main(["--home", str(tmp_path), "results", "list", "--local"]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_emoji_codes_print_as_written() -> None:
    console = output_console()
    with console.capture() as captured:
        console.print("sepsis :fire: cohort")
    assert captured.get() == "sepsis :fire: cohort\n"
