"""The folders of a workflow: the cases of the raw data, what each step read and wrote.

Under the dataset's workspace folder, ``workflow/``::

    workflow.sqlite                 the state (:mod:`.state`)
    workflow.lock                   held by the one run going on
    steps/STEP/cases/CASE/data      what a per_case step wrote for a case (and labels/)
    steps/STEP/output/data          what a whole step wrote (and labels/)
    steps/STEP/partial/...          a task's outputs while it runs; renamed into place
                                    when it succeeded, removed before anything runs
    steps/STEP/input/CASE           a case, or all cases, linked for a task to read

A case or a step's output is put together from hard links where the file system allows
(copies otherwise): no data is copied between steps on one disk.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from medval.core.errors import InvalidInput

WORKFLOW_FOLDER = "workflow"


def cases_of(data: Path) -> list[str]:
    """The cases of raw data: its top-level entries (hidden ones left out), by name."""
    return sorted(entry.name for entry in data.iterdir() if not entry.name.startswith("."))


class StepFolders:
    """Where one step keeps what it reads and writes."""

    def __init__(self, workflow_folder: Path, step: str) -> None:
        self.root = workflow_folder / "steps" / step
        self.partial_root = self.root / "partial"
        self.input_root = self.root / "input"

    def case(self, case: str) -> Path:
        return self.root / "cases" / case

    @property
    def output(self) -> Path:
        return self.root / "output"

    def clear_partial(self) -> None:
        """What a task killed mid-way left: never kept."""
        for folder in (self.partial_root, self.input_root):
            shutil.rmtree(folder, ignore_errors=True)

    def partial(self, name: str) -> Path:
        folder = self.partial_root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def input(self, name: str) -> Path:
        folder = self.input_root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder


def put_in_place(partial: Path, final: Path) -> None:
    """The finished outputs of a task at ``final``, by a rename (whatever was there goes)."""
    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, final)


def link_entry(source: Path, target: Path) -> None:
    """``source`` (a file or a folder) at ``target``, hard-linked file by file."""
    if source.is_symlink():
        raise InvalidInput(f"{source} is a link: a case is a file or a folder")
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted(source.iterdir()):
            link_entry(entry, target / entry.name)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def merge(sources: Iterable[tuple[str, Path]], target: Path) -> None:
    """The entries of every ``(case, folder)`` at ``target``; two cases writing the same
    name is one line."""
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for case, folder in sources:
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name in written:
                raise InvalidInput(
                    f"cases {written[entry.name]!r} and {case!r} both wrote {entry.name!r}"
                )
            written[entry.name] = case
            link_entry(entry, target / entry.name)
