"""Contract: what a task leaves behind cannot hurt the client (issue 8).

Its outputs and log together stay under ``Limits.output_bytes`` (the task is killed
past it, one line); no set-user-ID or set-group-ID bit survives a task; links in its
inputs or outputs are never followed. Runs against every runner (see conftest.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from medval.core.cube_files import walk
from medval.core.errors import SandboxError
from medval.runner import MIB, Limits, Runner

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

CAP = 8 * MIB
CAPPED = Limits(timeout_seconds=60, memory_bytes=1 << 30, output_bytes=CAP)
OVER = (
    r"^task 'infer' of cube 'probe' wrote more than 8 MiB to its outputs and log "
    r"\(its output limit\)$"
)


def _held(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*"))


def test_many_files_past_the_cap_kill_the_task_and_it_stops_writing(
    runner: Runner, make_cube: CubeMaker
) -> None:
    # 1 MiB every 20 ms for 10 s: 500 MiB if nothing stopped it.
    cube = make_cube(
        """
        import time
        for number in range(500):
            with open(os.path.join(args["output_path"], f"part-{number}"), "wb") as handle:
                handle.write(b"x" * (1 << 20))
            time.sleep(0.02)
        """
    )
    started = time.monotonic()
    with pytest.raises(SandboxError, match=OVER):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert time.monotonic() - started < 8
    held = _held(cube.output)
    assert CAP < held < 100 * MIB
    time.sleep(1.5)  # A container still running would still be writing.
    assert _held(cube.output) == held


def test_one_file_past_the_cap_is_cut_at_the_cap(runner: Runner, make_cube: CubeMaker) -> None:
    # Python ignores SIGXFSZ: its write fails with "File too large" at the cap.
    cube = make_cube(
        """
        with open(os.path.join(args["output_path"], "huge.bin"), "wb") as handle:
            handle.write(b"x" * (64 << 20))
        """
    )
    with pytest.raises(SandboxError, match=OVER):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert (cube.output / "huge.bin").stat().st_size <= CAP


def test_a_task_killed_by_sigxfsz_reads_as_the_output_limit(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube(
        """
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # As any program but Python has it.
        with open(os.path.join(args["output_path"], "huge.bin"), "wb") as handle:
            for _ in range(64):
                handle.write(b"x" * (1 << 20))
                handle.flush()
        """
    )
    with pytest.raises(SandboxError, match=OVER):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert (cube.output / "huge.bin").stat().st_size <= CAP


def test_a_log_past_the_cap_is_cut_and_the_task_killed(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    cube = make_cube(
        """
        import time
        line = "y" * 1023 + "\\n"
        for _ in range(500):
            sys.stdout.write(line * 1024)
            sys.stdout.flush()
            time.sleep(0.02)
        """
    )
    log = tmp_path / "task.log"
    with pytest.raises(SandboxError, match=OVER):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED, log_path=log)
    assert 0 < log.stat().st_size <= CAP


def test_within_the_cap_nothing_changes(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        with open(os.path.join(args["output_path"], "predictions.csv"), "wb") as handle:
            handle.write(b"x" * (2 << 20))
        print("y" * 4000)
        report("done")
        """
    )
    run = runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert run.exit_code == 0 and cube.report() == "done"


@pytest.mark.parametrize("exit_code", [0, 3])
def test_no_set_id_bit_survives_a_task(
    runner: Runner, make_cube: CubeMaker, exit_code: int
) -> None:
    cube = make_cube(
        f"""
        out = args["output_path"]
        os.makedirs(os.path.join(out, "bin"))
        for name, mode in (("bin/tool", 0o4755), ("bin/group", 0o2755), ("both", 0o6777)):
            with open(os.path.join(out, name), "w") as handle:
                handle.write("#!/bin/sh\\n")
            os.chmod(os.path.join(out, name), mode)
        os.chmod(os.path.join(out, "bin"), 0o2775)
        os.chmod(out, 0o2775)
        report({{name: oct(os.stat(os.path.join(out, name)).st_mode) for name in ("bin/tool",)}})
        sys.exit({exit_code})
        """
    )
    if exit_code:
        with pytest.raises(SandboxError, match="failed with exit code 3"):
            runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    else:
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert int(cube.report()["bin/tool"], 8) & stat.S_ISUID  # The cube did set it.
    left = {
        path.relative_to(cube.output).as_posix(): stat.S_IMODE(path.lstat().st_mode)
        for path in [cube.output, *cube.output.rglob("*")]
    }
    assert left == {
        ".": 0o775,
        "bin": 0o775,
        "bin/tool": 0o755,
        "bin/group": 0o755,
        "both": 0o777,
        "report.json": 0o644,
    }


def test_links_in_outputs_are_never_followed_after_a_task(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    """A link to a host file with a set-user-ID bit: the host file keeps it (not ours)."""
    host_file = tmp_path / "host-tool"
    host_file.write_text("#!/bin/sh\n")
    host_file.chmod(0o4755)
    cube = make_cube(
        f"""
        out = args["output_path"]
        os.symlink({str(host_file)!r}, os.path.join(out, "tool"))
        os.symlink("/nowhere/at/all", os.path.join(out, "dangling"))
        os.mkfifo(os.path.join(out, "fifo"))
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert stat.S_IMODE(host_file.stat().st_mode) == 0o4755
    assert (cube.output / "tool").is_symlink() and stat.S_ISFIFO(
        (cube.output / "fifo").lstat().st_mode
    )


def test_links_in_inputs_are_skipped_by_every_check_and_reveal_nothing(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    """A model's predictions are the evaluator's input: its links must not crash the
    readability check, nor let it probe which host files exist or are readable."""
    private = tmp_path / "private.txt"
    private.write_text("not for the cube")
    private.chmod(0o600)
    cube = make_cube("report(sorted(os.listdir(args['data_path'])))")
    (cube.data / "dangling").symlink_to(tmp_path / "no-such-file")
    (cube.data / "private").symlink_to(private)
    (cube.data / "etc").symlink_to("/etc")
    run = runner.run(cube.folder, cube.spec, "infer", cube.mounts, CAPPED)
    assert run.exit_code == 0
    assert cube.report() == ["dangling", "etc", "private"]


def test_folders_nested_past_any_path_are_handled_to_the_bottom(
    runner: Runner, make_cube: CubeMaker
) -> None:
    """3000 levels: past Python's recursion limit and past PATH_MAX for a path from the
    output folder, so only a walk by descriptors reaches the set-user-ID file at the bottom."""
    cube = make_cube(
        """
        os.chdir(args["output_path"])
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
        with open("tool", "w") as handle:
            handle.write("#!/bin/sh\\n")
        os.chmod("tool", 0o4755)
        """
    )
    roomy = Limits(timeout_seconds=60, memory_bytes=1 << 30, output_bytes=64 * MIB)
    try:  # (3001 entries of at least one 4 KiB block each pass the 8 MiB cap.)
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, roomy)
        entries = list(walk(cube.output))
        assert len(entries) == 3001
        assert {(e.status.st_uid, e.status.st_gid) for e in entries} == {(os.getuid(), os.getgid())}
        assert stat.S_IMODE(entries[-1].mode) == 0o755 and entries[-1].name == "tool"
    finally:
        subprocess.run(["rm", "-rf", str(cube.output)], check=True)  # Any depth, unlike rmtree.
