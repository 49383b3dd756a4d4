"""CPU seconds per test module, where ``make test`` spends the machine's two cores.

Every lane of ``make test`` runs at once and keeps both cores busy from start to end, so
a test's wall time there says more about the others than about itself; its CPU time
says what removing or shortening it would give back. With ``MEDVAL_TEST_CPU_DIR`` set
(the Makefile sets it), each pytest process adds up, per test module, the user and
system time of its setup, call and teardown, its own and that of the processes it
started and waited for (servers in threads, clients, sandboxes; the commands forked for
it by ``tests/warm_cli.py``, which say theirs; not a container engine's daemon or a
PostgreSQL server, which are not its children), and writes one file per
process into that folder at its end. Then::

    python -m tests.cpu_time .pytest-cpu [N]

prints the N (default 15) modules that used the most, over every lane, and the total.
"""

from __future__ import annotations

import os
import resource
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

FOLDER_VARIABLE = "MEDVAL_TEST_CPU_DIR"


# CPU seconds used for this process by processes that are not its children (the warm
# CLI's commands, forked by its zygote), as they reported them.
_reported = [0.0]


def add_cpu_seconds(seconds: float) -> None:
    """Count ``seconds`` used for this process by a process that is not its child."""
    _reported[0] += seconds


def reported_cpu_seconds() -> float:
    """What :func:`add_cpu_seconds` has counted so far."""
    return _reported[0]


def process_cpu_seconds() -> float:
    """The user and system CPU of this process and of its children it waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _cpu_seconds() -> float:
    return reported_cpu_seconds() + process_cpu_seconds()


class CpuByModule:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        before = _cpu_seconds()
        yield
        self.seconds[item.nodeid.split("::", 1)[0]] += _cpu_seconds() - before

    def pytest_sessionfinish(self) -> None:
        if not self.seconds:
            return
        lines = [f"{module}\t{seconds:.2f}\n" for module, seconds in self.seconds.items()]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"cpu-{os.getpid()}.tsv").write_text("".join(lines))
        except OSError as error:  # a measurement, never a reason for a lane to fail
            print(f"CPU times not written to {self.folder}: {error}", file=sys.stderr)


PLUGIN_NAME = "medval-cpu-by-module"


def register(config: pytest.Config) -> None:
    """From conftest's ``pytest_configure``: record when the variable names a folder."""
    folder = os.environ.get(FOLDER_VARIABLE)
    if folder and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(CpuByModule(Path(folder)), PLUGIN_NAME)


def pytest_configure(config: pytest.Config) -> None:
    """As a plugin of its own (``pytest -p tests.cpu_time``), outside this suite."""
    register(config)


def totals(folder: Path) -> dict[str, float]:
    found: defaultdict[str, float] = defaultdict(float)
    for path in sorted(folder.glob("cpu-*.tsv")):
        for line in path.read_text().splitlines():
            module, seconds = line.rsplit("\t", 1)
            found[module] += float(seconds)
    return found


def main(arguments: list[str]) -> int:
    folder = Path(arguments[0])
    shown = int(arguments[1]) if len(arguments) > 1 else 15
    found = totals(folder)
    everything = sum(found.values())
    if not everything:
        print(f"== CPU seconds by test module: none recorded in {folder}")
        return 0
    print(f"== CPU seconds by test module, every lane ({folder}): {everything:.0f} s in all")
    for module, seconds in sorted(found.items(), key=lambda item: -item[1])[:shown]:
        print(f"{seconds:8.1f} s  {100 * seconds / everything:4.1f}%  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
