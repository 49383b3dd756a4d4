"""One training run on the aggregator: the pinned training cube submitted with the plan's
run configuration, followed round by round to its end, and its final model collected.

``flwr run`` takes an app directory and builds the FAB itself (it also rewrites the
directory's ``pyproject.toml`` if it names federations), so the run is submitted from a
private directory unpacked from the pinned FAB, after checking that Flower's build of that
directory gives the pinned hash again; the SuperLink's record of the run's FAB hash is
checked at the end as well. The ServerApp's working directory is the SuperLink's, so one
run at a time, and the final model file (``[tool.medval.training] final-model``) of an
earlier run is moved out of the way first. Imports ``medval.core`` and
``medval.training`` only.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from medval.core.errors import HashMismatch, InvalidInput, TrainingError
from medval.core.flower_app import FlowerApp
from medval.core.training_plan import TrainingPlan, undeclared_keys
from medval.training.app import built_sha256, file_sha256, read_fab_app, unpack_fab
from medval.training.control import Control
from medval.training.processes import stop_process_tree
from medval.training.progress import ProgressEvent, ProgressReader, RoundMetrics, strip_colours
from medval.training.superlink import CONNECTION_NAME, SuperLink

ProgressCallback = Callable[[ProgressEvent], None]
COMPLETED = "finished:completed"


@dataclass(frozen=True)
class PinnedFab:
    """A training cube's FAB file and the sha256 registered for it."""

    path: Path
    sha256: str


@dataclass
class TrainingOutcome:
    run_id: int
    status: str
    fab_sha256: str
    final_model: Path
    final_model_sha256: str
    rounds: list[RoundMetrics] = field(default_factory=list)
    seconds: float = 0.0


def run_config_toml(config: dict[str, bool | int | float | str]) -> str:
    """The run configuration as a TOML file of ``key = value`` lines (what ``flwr run
    --run-config FILE`` reads)."""
    lines = []
    for key, value in config.items():
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, int | float):
            shown = repr(value)
        else:
            shown = json.dumps(value)  # a JSON string is a TOML basic string
        lines.append(f"{json.dumps(key)} = {shown}")
    return "\n".join(lines) + "\n"


def prepare_run(
    fab: PinnedFab,
    plan: TrainingPlan,
    run_dir: Path,
    superlink: SuperLink,
    extra_config: Mapping[str, bool | int | float | str] | None = None,
) -> Path:
    """The directory ``flwr run`` will submit, once the FAB, the plan and the rebuild are
    checked; nothing has been sent to the SuperLink yet. ``extra_config`` is run config
    beside the plan's (the simulation's data), each key one the app declares."""
    app = read_fab_app(fab.path)
    missing = undeclared_keys(plan, app.declared_keys)
    if missing:
        raise InvalidInput(
            f"training cube {app.name} does not declare the plan's run-config keys "
            f"{', '.join(missing)} in [tool.flwr.app.config]"
        )
    run_dir.mkdir(parents=True, exist_ok=False)
    app_dir = unpack_fab(fab.path, run_dir / app.name)
    rebuilt = built_sha256(app_dir, superlink.flower)
    if rebuilt != fab.sha256:
        raise HashMismatch(
            f"training cube {fab.path.name} does not rebuild to its registered hash (Flower "
            f"builds {rebuilt[:12]}...; registered {fab.sha256[:12]}...)"
        )
    (run_dir / "run-config.toml").write_text(
        run_config_toml({**plan.run_config(), **(extra_config or {})})
    )
    return app_dir


class TrainingRun:
    """Submits one prepared run and follows it to its end."""

    def __init__(
        self,
        superlink: SuperLink,
        control: Control,
        app: FlowerApp,
        rounds: int = 0,
        run_options: Sequence[str] = (),
    ) -> None:
        self._superlink = superlink
        self._control = control
        self._app = app
        # More options of ``flwr run`` (the simulation's ``--federation-config``).
        self._run_options = list(run_options)
        self._process: subprocess.Popen[str] | None = None
        # The plan's rounds: Flower's older workflows do not say how many there are.
        self.reader = ProgressReader(rounds)

    def follow(
        self,
        app_dir: Path,
        fab: PinnedFab,
        on_progress: ProgressCallback | None,
        timeout_seconds: float | None,
    ) -> TrainingOutcome:
        run_dir = app_dir.parent
        final_model = self._superlink.layout.serverapp_dir / self._app.final_model
        _move_aside(final_model)
        started = time.monotonic()
        argv = self._control.argv(
            "run",
            str(app_dir),
            CONNECTION_NAME,
            "--run-config",
            str(run_dir / "run-config.toml"),
            "--stream",
            *self._run_options,
        )
        try:
            self._process = subprocess.Popen(
                argv,
                cwd=run_dir,
                env=self._control.environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self._read(run_dir / "run.log", on_progress, started, timeout_seconds)
        except BaseException:
            self.stop()
            raise
        return self._outcome(run_dir, fab, final_model, time.monotonic() - started)

    def stop(self) -> None:
        """Stop following and, if the run started, ask the SuperLink to stop it."""
        if self._process is not None:
            stop_process_tree(self._process, grace_seconds=2)
            self._process = None
        if self.reader.run_id and not self.reader.finished:
            # Already over, or the SuperLink is gone: nothing left to stop then.
            with contextlib.suppress(TrainingError):
                self._control.stop_run(self.reader.run_id)

    def _read(
        self,
        log: Path,
        on_progress: ProgressCallback | None,
        started: float,
        timeout_seconds: float | None,
    ) -> None:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True)
        reader.start()
        with log.open("a") as record:
            while True:
                if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
                    raise TrainingError(
                        f"training run {self.reader.run_id or '(not started)'} did not end "
                        f"within {timeout_seconds:.0f} s; it was stopped"
                    )
                try:
                    line = lines.get(timeout=0.5)
                except queue.Empty:
                    continue
                if line is None:
                    break
                record.write(strip_colours(line))
                event = self.reader.feed(line)
                if event is not None and on_progress is not None:
                    on_progress(event)
        code = self._process.wait()
        self._process = None
        if code != 0 or not self.reader.run_id:
            raise TrainingError(f"flwr run did not complete (exit code {code}): {_last_line(log)}")

    def _outcome(
        self, run_dir: Path, fab: PinnedFab, final_model: Path, seconds: float
    ) -> TrainingOutcome:
        status = self._control.run_status(self.reader.run_id)
        if status.fab_hash != fab.sha256:
            raise HashMismatch(
                f"run {status.run_id} ran a FAB of hash {status.fab_hash[:12]}..., not the "
                f"training cube's registered {fab.sha256[:12]}..."
            )
        if status.status != COMPLETED:
            raise TrainingError(
                f"training run {status.run_id} ended {status.status}"
                + (f" ({status.details})" if status.details else "")
                + f": {self._superlink.last_log_line()}"
            )
        if not final_model.is_file():
            raise TrainingError(
                f"training run {status.run_id} completed but its ServerApp wrote no "
                f"{self._app.final_model} (the final-model of [tool.medval.training])"
            )
        kept = run_dir / "final-model" / Path(self._app.final_model).name
        kept.parent.mkdir()
        shutil.move(final_model, kept)
        rounds = [self.reader.by_round[number] for number in sorted(self.reader.by_round)]
        return TrainingOutcome(
            run_id=status.run_id,
            status=status.status,
            fab_sha256=status.fab_hash,
            final_model=kept,
            final_model_sha256=file_sha256(kept),
            rounds=rounds,
            seconds=seconds,
        )


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _move_aside(final_model: Path) -> None:
    """An earlier run's final model must not pass for this run's."""
    if final_model.exists():
        earlier = final_model.with_name(f"{final_model.name}.earlier-{time.time_ns()}")
        final_model.rename(earlier)


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip(" │╭╰─╮╯\n") for line in log.read_text().splitlines()]
    except OSError:
        return "no output"
    meaningful = [line for line in lines if line and line != "Error"]
    return meaningful[-1][:300] if meaningful else "no output"
