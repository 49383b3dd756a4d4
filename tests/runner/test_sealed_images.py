"""``SealedImageUses``: a private model's image is made once for the scopes that hold it
at the same time, removed after the last one, and never removed when it was found held
already (another cube's image in clear: nothing is deleted that this did not make)."""

from __future__ import annotations

import threading

import pytest

from medval.runner.sealed_images import SealedImageUses


class Engine:
    def __init__(self, holds: bool = False) -> None:
        self.holds = holds
        self.calls: list[str] = []

    def make(self) -> bool:
        self.calls.append("make")
        if self.holds:
            return False
        self.holds = True
        return True

    def remove(self) -> None:
        self.calls.append("remove")
        self.holds = False


def test_made_once_for_overlapping_scopes_and_removed_after_the_last() -> None:
    uses, engine = SealedImageUses(), Engine()
    with uses.held("sha256:a", engine.make, engine.remove):
        with uses.held("sha256:a", engine.make, engine.remove):
            assert engine.calls == ["make"]
        assert engine.calls == ["make"] and engine.holds
    assert engine.calls == ["make", "remove"] and not engine.holds
    with uses.held("sha256:a", engine.make, engine.remove):  # made again when needed again
        pass
    assert engine.calls == ["make", "remove", "make", "remove"]


def test_an_image_held_already_is_used_and_kept() -> None:
    uses, engine = SealedImageUses(), Engine(holds=True)
    with uses.held("sha256:a", engine.make, engine.remove):
        pass
    assert engine.calls == ["make"] and engine.holds


def test_removed_after_a_failing_run_and_not_held_after_a_failing_make() -> None:
    uses, engine = SealedImageUses(), Engine()
    with pytest.raises(RuntimeError), uses.held("sha256:a", engine.make, engine.remove):
        raise RuntimeError("the task failed")
    assert engine.calls == ["make", "remove"] and not engine.holds

    def broken() -> bool:
        raise RuntimeError("the archive does not load")

    with pytest.raises(RuntimeError), uses.held("sha256:b", broken, engine.remove):
        pass
    with uses.held("sha256:b", engine.make, engine.remove):  # nothing was left counted
        pass
    assert engine.calls[-2:] == ["make", "remove"]


def test_scopes_on_threads_make_and_remove_once() -> None:
    uses, engine = SealedImageUses(), Engine()
    inside = threading.Barrier(4)

    def run() -> None:
        with uses.held("sha256:a", engine.make, engine.remove):
            inside.wait(timeout=10)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert engine.calls == ["make", "remove"]
