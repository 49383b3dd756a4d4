"""The site's ClientApp as a cube: what the sandbox shows it, and how a launch is set up.

Each message the aggregator sends starts one ClientApp process (Flower's process isolation
mode). medval runs it as the one task of a small cube of its own, through the same
:class:`~medval.runner.Runner` interface as every cube, so any runner can hold it:

- the cube folder (read-only, ``/cube``) holds only the launcher
  (:mod:`medval.training.clientapp_launcher`), which medval copies there;
- ``data``: the site's prepared dataset, read-only, at ``/mlcube_io/data``; the SuperNode
  tells the app this path in its node configuration, as ``data-path``;
- ``labels``, when the prepared dataset keeps its labels apart (medval's preparation
  does): read-only at ``/mlcube_io/labels``, told to the app as ``labels-path``;
- ``channel``: a folder with the unix socket to the SuperNode, the task's token (never on
  a command line) and the launch settings, read-only;
- the runner's own fresh ``/tmp``, where Flower unpacks the app (its ``FLWR_HOME``);
- no network: the launcher relays the app's Runtime API calls through the socket.

:class:`SiteLaunchSettings` is what the site writes once for every launch of its
``flwr-clientapp`` wrapper (:mod:`medval.training.clientapp_sandbox`) to read. Imports
``core``, ``runner`` and the standard library.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from medval.core.cube_spec import CubeSpec, TaskIO, TaskSpec
from medval.core.errors import InvalidInput
from medval.core.states import CubeKind
from medval.runner.interface import MIB, Limits
from medval.runner.invocation import IO_DIR

TASK = "clientapp"
DATA_MOUNT = "data"
LABELS_MOUNT = "labels"
CHANNEL_MOUNT = "channel"
LAUNCHER_FILE = "launcher.py"
# What the app reads as node_config["data-path"] (and "labels-path").
DATA_PATH_IN_SANDBOX = IO_DIR / DATA_MOUNT
LABELS_PATH_IN_SANDBOX = IO_DIR / LABELS_MOUNT


def clientapp_cube(with_labels: bool) -> CubeSpec:
    """A cube of medval's own, never registered: the kind only names it in messages."""
    inputs = (
        (DATA_MOUNT, LABELS_MOUNT, CHANNEL_MOUNT) if with_labels else (DATA_MOUNT, CHANNEL_MOUNT)
    )
    return CubeSpec(
        name="training-clientapp",
        kind=CubeKind.MODEL,
        tasks={TASK: TaskSpec(TASK, ("python", LAUNCHER_FILE), TaskIO(inputs, ()))},
        has_parameters=False,
    )


def write_launcher_cube(folder: Path) -> Path:
    """The cube folder: the launcher alone, readable by the sandbox user."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    source = Path(__file__).with_name("clientapp_launcher.py")
    target = folder / LAUNCHER_FILE
    shutil.copyfile(source, target)
    target.chmod(0o644)
    return folder


@dataclass(frozen=True)
class SiteLaunchSettings:
    """What every ClientApp launch of one site needs (written as JSON in its workdir)."""

    runner_kind: str
    dataset: Path
    launcher_folder: Path
    launches_folder: Path
    logs_folder: Path
    pinned_fab_sha256: str
    limits: Limits
    labels: Path | None = None

    def write(self, path: Path) -> None:
        document: dict[str, object] = {
            name: str(value) if isinstance(value, Path) else value
            for name, value in asdict(self).items()
        }
        path.write_text(json.dumps(document, indent=1) + "\n")

    @classmethod
    def read(cls, path: Path) -> SiteLaunchSettings:
        try:
            raw = json.loads(path.read_text())
            return cls(
                runner_kind=str(raw["runner_kind"]),
                dataset=Path(raw["dataset"]),
                launcher_folder=Path(raw["launcher_folder"]),
                launches_folder=Path(raw["launches_folder"]),
                logs_folder=Path(raw["logs_folder"]),
                pinned_fab_sha256=str(raw["pinned_fab_sha256"]),
                limits=Limits(**raw["limits"]),
                labels=None if raw.get("labels") is None else Path(raw["labels"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}: not a site's launch settings ({exc})") from None


# One ClientApp call: its log and Flower's own output, nothing large.
DEFAULT_CLIENTAPP_LIMITS = Limits(
    timeout_seconds=3600.0, memory_bytes=4096 * MIB, max_processes=256, output_bytes=256 * MIB
)
