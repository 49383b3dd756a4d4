"""A trial task: the smallest cube there is, run through a runner as every task runs.

``medval doctor`` runs it to learn whether the sandbox starts on this machine (user
namespaces allowed, the system-call filter loaded, the task's control group made with
its limits) before a data owner's first real run does. Its cube reads nothing and
writes nothing: ``python -c pass`` with one empty input and one output folder.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.runner.interface import Limits, Runner

_SPEC = "name: medval-trial\nkind: model\ntasks:\n  infer: {entrypoint: [python, -c, pass]}\n"


# A trial that has not ended by then is stuck (it takes a fraction of a second).
TRIAL_TIMEOUT_SECONDS = 60.0


def run_trial_task(runner: Runner, limits: Limits) -> float:
    """Run the trial task with ``limits`` (its time limit at most a minute); its time in
    seconds, or the runner's own SandboxError (one line) when it cannot run."""
    limits = dataclasses.replace(
        limits, timeout_seconds=min(limits.timeout_seconds, TRIAL_TIMEOUT_SECONDS)
    )
    with tempfile.TemporaryDirectory(prefix="medval-trial-") as scratch:
        root = Path(scratch)
        cube, data, output = root / "cube", root / "data", root / "output"
        for folder in (cube, data, output):
            folder.mkdir()
            # As root the task runs as nobody: its cube and input must be readable to it.
            folder.chmod(0o755)
        (cube / SPEC_FILE).write_text(_SPEC)
        (cube / SPEC_FILE).chmod(0o644)
        spec = load_cube_spec(cube)
        started = time.monotonic()
        runner.run(cube, spec, "infer", {"data_path": data, "output_path": output}, limits)
        return time.monotonic() - started
