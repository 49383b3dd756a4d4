"""GPUs: what a cube declares it needs, what a run asks for, and the devices given.

A cube declares its need (:class:`GpuNeed`): ``none`` (the default), ``can_use`` (it runs
without one, faster with one) or ``needs`` (it cannot run without one). MedPerf's
``run_args.gpus`` and MLCube's ``platform.accelerator_count``, when they ask for any
device, are read as ``can_use``: they say what their own runner passes to ``docker run``,
not whether the code falls back to the CPU (MedPerf's own ``--gpus`` overrides them, and
the MedPerf model medval is tested with declares ``gpus: all`` and runs on a CPU). Only
a cube in medval's format can say ``needs``.

``medval run --gpus all|none|IDS`` is a :class:`GpuRequest`, checked against this
machine's NVIDIA device files (:func:`find_gpus`) before any task runs: a GPU is
``/dev/nvidiaN``, and a task given any GPU also gets the driver's control files
``/dev/nvidiactl`` and ``/dev/nvidia-uvm`` (those that exist). The device folder is a
setting (``MEDVAL_DEVICE_ROOT``), so tests can use a folder of fake files.

Imports: the standard library and :mod:`medval.core.errors` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from medval.core.errors import InvalidInput

DEVICE_ROOT = Path("/dev")
_GPU_FILE = re.compile(r"nvidia(\d+)")
CONTROL_FILES = ("nvidiactl", "nvidia-uvm")


class GpuNeed(StrEnum):
    """What a cube declares about GPUs."""

    NONE = "none"
    CAN_USE = "can_use"
    NEEDS = "needs"

    def describe(self) -> str:
        return {
            GpuNeed.NONE: "uses no GPU",
            GpuNeed.CAN_USE: "can use a GPU (runs without one)",
            GpuNeed.NEEDS: "needs a GPU (run it with --gpus all or --gpus IDS)",
        }[self]


def gpu_lines(need: GpuNeed | None) -> list[str]:
    """``GPU: the cube ...`` where a cube needs or can use a GPU; nothing otherwise (or
    where the need is not known)."""
    return [f"GPU: the cube {need.describe()}"] if need not in (None, GpuNeed.NONE) else []


class GpuChoice(StrEnum):
    """Which GPUs a run asks for: none, every one here, or the listed ones."""

    NONE = "none"
    ALL = "all"
    DEVICES = "devices"


@dataclass(frozen=True)
class GpuRequest:
    """``--gpus``: ``none``, ``all`` or device numbers (``0`` or ``0,2``)."""

    choice: GpuChoice = GpuChoice.NONE
    ids: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> GpuRequest:
        word = text.strip().lower()
        if word in (GpuChoice.NONE.value, GpuChoice.ALL.value):
            return cls(GpuChoice(word))
        parts = [part.strip() for part in word.split(",")]
        if not parts or not all(part.isdigit() for part in parts):
            raise InvalidInput(
                f"--gpus takes all, none or GPU numbers separated by commas (0,1), not {text!r}"
            )
        return cls(GpuChoice.DEVICES, tuple(sorted({int(part) for part in parts})))

    def describe(self) -> str:
        if self.choice is GpuChoice.DEVICES:
            return "GPU " + ",".join(str(number) for number in self.ids)
        return f"{self.choice.value} GPUs" if self.choice is GpuChoice.ALL else "no GPU"


@dataclass(frozen=True)
class GpuDevices:
    """The GPUs a task is given: their numbers, whether that is every one here (``all``),
    and the host's device files to show it (each GPU's, then the control files)."""

    ids: tuple[int, ...] = ()
    every: bool = False
    files: tuple[Path, ...] = ()

    def describe(self) -> str:
        if not self.ids:
            return "no GPU"
        numbers = ",".join(str(number) for number in self.ids)
        return f"all GPUs ({numbers})" if self.every else f"GPU {numbers}"

    @staticmethod
    def sandbox_path(host_file: Path) -> PurePosixPath:
        """Where a device file appears in the sandbox: ``/dev/<its name>``."""
        return PurePosixPath("/dev") / host_file.name


def find_gpus(request: GpuRequest, device_root: Path = DEVICE_ROOT) -> GpuDevices:
    """The devices ``request`` asks for, or one line saying which this machine lacks."""
    if request.choice is GpuChoice.NONE:
        return GpuDevices()
    here = _gpu_numbers(device_root)
    if not here:
        raise InvalidInput(
            f"--gpus {_as_option(request)}: this machine has no NVIDIA GPU "
            f"(no {device_root}/nvidia0, nvidia1, ...); run with --gpus none"
        )
    if request.choice is GpuChoice.ALL:
        wanted = here
    else:
        missing = [number for number in request.ids if number not in here]
        if missing:
            have = ",".join(str(number) for number in here)
            lacking = ",".join(str(number) for number in missing)
            raise InvalidInput(
                f"--gpus {_as_option(request)}: this machine has no GPU {lacking} (it has {have})"
            )
        wanted = request.ids
    files = [device_root / f"nvidia{number}" for number in wanted]
    files += [device_root / name for name in CONTROL_FILES if (device_root / name).exists()]
    return GpuDevices(wanted, request.choice is GpuChoice.ALL, tuple(files))


def _gpu_numbers(device_root: Path) -> tuple[int, ...]:
    try:
        names = [entry.name for entry in device_root.iterdir()]
    except OSError:
        return ()
    found = (_GPU_FILE.fullmatch(name) for name in names)
    return tuple(sorted(int(match.group(1)) for match in found if match))


def _as_option(request: GpuRequest) -> str:
    if request.choice is GpuChoice.DEVICES:
        return ",".join(str(number) for number in request.ids)
    return request.choice.value


def gpu_need_at(where: Path, raw: object) -> GpuNeed:
    """A native spec's ``gpu:`` (absent: none)."""
    if raw is None:
        return GpuNeed.NONE
    try:
        return GpuNeed(str(raw))
    except ValueError:
        choices = ", ".join(need.value for need in GpuNeed)
        raise InvalidInput(f"{where}: 'gpu' must be one of {choices}") from None


def asks_for_gpus(raw: object) -> bool:
    """Whether MedPerf's ``gpus`` or MLCube's ``accelerator_count`` asks for any device
    (``0``, ``none``, empty: no)."""
    if raw is None or raw is False:
        return False
    if isinstance(raw, int):
        return raw > 0
    return str(raw).strip().lower() not in ("", "0", "none")
