"""What the site's tests share: the test apps, prepared datasets, a site's progress kept
for waiting on, and a site under test."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medval.runner import Limits
from medval.training.site import Site
from medval.training.site_progress import ProgressKind, SiteProgress

APPS = Path(__file__).parent / "site_apps"
LINEAR = APPS / "linear"
TRUE_W, TRUE_B = 3.0, -1.0
ROWS = 200
CLIENTAPP_LIMITS = Limits(timeout_seconds=120, memory_bytes=2 << 30)


def fab_sha256(app: Path) -> str:
    """The sha256 of the FAB Flower builds from ``app`` (deterministic: fixed dates)."""
    from flwr.cli.build import build_fab_from_disk

    return hashlib.sha256(build_fab_from_disk(app)).hexdigest()


def site_data(partition: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 + partition)
    x = rng.normal(loc=partition, scale=1.0, size=ROWS)
    y = TRUE_W * x + TRUE_B + rng.normal(scale=0.1, size=ROWS)
    return x, y


def write_dataset(folder: Path, partition: int) -> Path:
    """A prepared dataset, readable by the sandbox user as medval's preparation leaves it."""
    folder.mkdir(parents=True)
    x, y = site_data(partition)
    rows = "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    (folder / "data.csv").write_text("x,y\n" + rows + "\n")
    folder.chmod(0o755)
    (folder / "data.csv").chmod(0o644)
    return folder


@dataclass
class Progress:
    """What one site said, kept for the test to wait on."""

    events: list[SiteProgress] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: SiteProgress) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def of(self, kind: ProgressKind) -> list[SiteProgress]:
        with self.changed:
            return [event for event in self.events if event.kind is kind]

    def wait_for(
        self, kind: ProgressKind, timeout: float, count: int = 1, after: int = 0
    ) -> list[SiteProgress]:
        """The first ``count`` events of ``kind`` from event number ``after`` on."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [e for e in self.events[after:] if e.kind is kind]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    said = "\n".join(f"{e.kind.value}: {e.text}" for e in self.events)
                    raise AssertionError(f"no {count} {kind.value} events; the site said:\n{said}")
                self.changed.wait(min(left, 1.0))


@dataclass
class SiteUnderTest:
    site: Site
    progress: Progress
    public_key: Path

    @property
    def logs(self) -> Path:
        return self.site.workdir / "logs"

    def clientapp_logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("clientapp-*.log")))
