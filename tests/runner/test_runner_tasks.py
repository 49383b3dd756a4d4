"""Contract: how a task is called, what comes back, and how each failure reads.

Runs against every runner in ``RUNNER_FACTORIES`` (see conftest.py).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from medval.core.errors import InvalidInput, SandboxError
from medval.runner import MIB, Limits, Runner, TaskFailed, TaskRun

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

FAST = Limits(timeout_seconds=30, memory_bytes=1 << 30)


def test_happy_path_reads_inputs_writes_outputs_and_logs(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    cube = make_cube(
        """
        rows = open(os.path.join(args["data_path"], "cases.csv")).read().splitlines()
        with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
            handle.write("id,score\\n" + "".join(f"{row.split(',')[0]},0.5\\n" for row in rows[1:]))
        print("scored", len(rows) - 1, "cases")
        print("a warning", file=sys.stderr)
        report({"argv": sys.argv[1:], "cwd": os.getcwd(),
                "parameters": open(args["parameters_file"]).read()})
        """,
        parameters="threshold: 0.5\n",
        data_files={"cases.csv": "id,age\n1,50\n2,61\n"},
    )
    log_path = tmp_path / "logs" / "infer.log"

    run = runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST, log_path=log_path)

    assert isinstance(run, TaskRun)
    assert (run.cube, run.task, run.exit_code) == ("probe", "infer", 0)
    assert 0 < run.duration_seconds < 30
    assert "scored 2 cases" in run.log_tail and "a warning" in run.log_tail
    assert run.log_path == log_path
    log = log_path.read_text()
    assert "scored 2 cases" in log and "a warning" in log
    assert (cube.output / "predictions.csv").read_text() == "id,score\n1,0.5\n2,0.5\n"
    report = cube.report()
    assert report["argv"] == [
        "--data_path=/mlcube_io/data_path",
        "--output_path=/mlcube_io/output_path",
        "--parameters_file=/cube/parameters.yaml",
    ]
    assert report["cwd"] == "/cube"
    assert report["parameters"] == "threshold: 0.5\n"


def test_the_log_keeps_each_line_whole(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    """stdout and stderr interleave in the log by whole lines, never inside one."""
    cube = make_cube(
        """
        import time
        sys.stdout.write("scored "); sys.stdout.flush(); time.sleep(0.3)
        sys.stderr.write("a warning\\n"); sys.stderr.flush(); time.sleep(0.3)
        sys.stdout.write("2 cases\\n"); sys.stdout.flush()
        report("done")
        """
    )
    log_path = tmp_path / "interleaved.log"
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST, log_path=log_path)
    assert log_path.read_text().splitlines() == ["a warning", "scored 2 cases"]


def test_no_parameters_file_means_no_parameters_argument(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube("report(sys.argv[1:])")
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert cube.report() == [
        "--data_path=/mlcube_io/data_path",
        "--output_path=/mlcube_io/output_path",
    ]


def test_python_is_the_sandbox_python_with_the_scientific_stack(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube(
        """
        import numpy, pandas, sklearn
        frame = pandas.DataFrame({"x": numpy.arange(4.0)})
        report({"version": list(sys.version_info[:2]), "sum": float(frame["x"].sum())})
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert cube.report() == {"version": [3, 11], "sum": 6.0}


def test_absent_output_folders_are_created(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("report('done')")
    cube.output = cube.output / "nested" / "deeper"
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert cube.report() == "done"


def test_log_is_streamed_while_the_task_runs(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    # The cube waits for a file that the test only writes once it has seen the log.
    cube = make_cube(
        """
        import time
        print("waiting for the go", flush=True)
        while not os.path.exists(os.path.join(args["data_path"], "go")):
            time.sleep(0.05)
        print("went")
        """
    )
    log_path = tmp_path / "stream.log"
    results: list[TaskRun] = []
    worker = threading.Thread(
        target=lambda: results.append(
            runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST, log_path)
        )
    )
    worker.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if log_path.exists() and "waiting for the go" in log_path.read_text():
            break
        time.sleep(0.05)
    (cube.data / "go").write_text("")
    worker.join(timeout=25)
    assert results and results[0].log_tail == ("waiting for the go", "went")


def test_failure_reports_exit_code_and_last_error_line(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube(
        """
        print("loading model")
        print("first problem", file=sys.stderr)
        print("weights file is corrupt", file=sys.stderr)
        sys.exit(3)
        """
    )
    with pytest.raises(TaskFailed) as failure:
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    message = str(failure.value)
    assert message == (
        "task 'infer' of cube 'probe' failed with exit code 3: weights file is corrupt"
    )
    assert "\n" not in message
    assert "loading model" in failure.value.log_tail
    assert isinstance(failure.value, SandboxError)


def test_an_uncaught_exception_reads_as_its_last_line(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("raise ValueError('labels column missing')")
    with pytest.raises(SandboxError, match=r"exit code 1: ValueError: labels column missing$"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)


def test_timeout_kills_the_task_and_everything_it_started(
    runner: Runner, make_cube: CubeMaker
) -> None:
    # A grandchild in its own session tries to outlive the task and write afterwards.
    cube = make_cube(
        """
        import time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1.5)
                open(os.path.join(args["output_path"], "survivor"), "w").close()
            os._exit(0)
        time.sleep(60)
        """
    )
    started = time.monotonic()
    with pytest.raises(SandboxError, match=r"^task 'infer' of cube 'probe' timed out after 1 s$"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(1, 1 << 30))
    assert time.monotonic() - started < 10
    time.sleep(2)
    assert not (cube.output / "survivor").exists()


def test_timeout_even_after_closing_its_output(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("import time; os.close(1); os.close(2); time.sleep(60)")
    with pytest.raises(SandboxError, match="timed out after 1 s"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(1, 1 << 30))


def test_allocating_past_the_memory_limit_is_out_of_memory(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube("hoard = bytearray(1024 * 1024 * 1024)")
    limits = Limits(timeout_seconds=30, memory_bytes=512 * MIB)
    with pytest.raises(
        SandboxError, match=r"^task 'infer' of cube 'probe' ran out of memory \(limit 512 MiB\)$"
    ):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, limits)


def test_missing_or_unknown_mount_names_are_invalid(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("report('ran')")
    with pytest.raises(InvalidInput, match="missing output_path"):
        runner.run(cube.folder, cube.spec, "infer", {"data_path": cube.data}, FAST)
    extra = {**cube.mounts, "labels": cube.data}
    with pytest.raises(InvalidInput, match="unknown labels"):
        runner.run(cube.folder, cube.spec, "infer", extra, FAST)
    assert not cube.output.exists()


def test_unknown_task_is_invalid(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("report('ran')")
    with pytest.raises(InvalidInput, match="has no task 'evaluate'"):
        runner.run(cube.folder, cube.spec, "evaluate", cube.mounts, FAST)


def test_missing_input_folder_is_a_sandbox_error(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    cube = make_cube("report('ran')")
    cube.data = tmp_path / "no-such-data"
    with pytest.raises(SandboxError, match=r"^input mount 'data_path' is missing: no directory"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)


def test_an_output_inside_an_input_is_refused(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube("report('ran')")
    cube.output = cube.data / "out"
    with pytest.raises(InvalidInput, match=r"output mount 'output_path' .* overlaps input"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert not cube.output.exists()


def test_everything_a_task_writes_is_owned_by_the_invoking_user(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube(
        """
        nested = os.path.join(args["output_path"], "nested", "deeper")
        os.makedirs(nested)
        open(os.path.join(nested, "file.txt"), "w").write("x")
        report({"uid": os.getuid()})
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    written = [cube.output, *cube.output.rglob("*")]
    assert len(written) == 5  # output, nested, deeper, file.txt, report.json
    owners = {(path.stat().st_uid, path.stat().st_gid) for path in written}
    assert owners == {(os.getuid(), os.getgid())}
