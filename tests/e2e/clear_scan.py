"""Looking for a private model in clear where a site keeps files: its client folder and the
machine's memory-backed scratch folder (``/dev/shm/medval-private-UID``).

That scratch folder is the machine's: other tests' runs (``make demo``'s private model in
the main lane, while these run in the serial lane) make and remove their own folders in it
while a scan walks it. A folder or file that vanishes mid-scan was removed by its own run,
so it is passed over; what this test's runs left stays put, and is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def files_holding(roots: Iterable[Path], needles: Iterable[bytes]) -> list[Path]:
    """The regular files under ``roots`` (links not followed) holding any of ``needles``."""
    wanted = list(needles)
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):  # a folder that vanishes is skipped
            for name in names:
                path = Path(folder) / name
                try:
                    if path.is_symlink() or not path.is_file():
                        continue
                    content = path.read_bytes()
                except FileNotFoundError:  # removed by its own run as we got to it
                    continue
                if any(needle in content for needle in wanted):
                    found.append(path)
    return found
