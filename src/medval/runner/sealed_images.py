"""A private model's image made runnable for a while, then removed: which runs hold it.

A private model's image (``client.private_models``) reaches a runner unsealed, as an
archive in a private scratch folder, for one cube's runs (``Runner.sealed_image``). The
runner loads it (Docker, Podman) or unpacks it (bubblewrap, into a private folder of its
own) for as long as any of those runs hold it, and removes what it made when the last
one is done, so that the image is in clear at the site only while it runs. An image the
runner held already (the same image registered in clear by another cube, or loaded by
its owner on this machine) is used as it is and never removed: nothing is deleted that
this did not make.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SealedImageUses:
    """How many scopes hold each sealed image, and whether this process made it here.

    Making and removing happen under one lock, so a scope that starts while the last
    one ends never finds its image half removed."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _uses: dict[str, tuple[int, bool]] = field(default_factory=dict)

    @contextmanager
    def held(
        self, image_id: str, make: Callable[[], bool], remove: Callable[[], None]
    ) -> Iterator[None]:
        """Hold ``image_id`` for the block: ``make`` it first if no scope holds it (it
        says whether it made it, or found it held already); ``remove`` it after the
        last scope, if it was made here."""
        with self._lock:
            count, made = self._uses.get(image_id, (0, False))
            if count == 0:
                made = make()
            self._uses[image_id] = (count + 1, made)
        try:
            yield
        finally:
            with self._lock:
                count, made = self._uses.pop(image_id)
                if count > 1:
                    self._uses[image_id] = (count - 1, made)
                elif made:
                    remove()
