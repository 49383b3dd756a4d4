"""The folder a demo plays in: made or emptied for it, never one it did not make."""

from __future__ import annotations

import shutil
from pathlib import Path

from medval.core.errors import InvalidInput

# Written in every folder the demo makes: only a folder holding it is ever emptied.
MARKER = ".medval-demo"


def claim_workdir(workdir: Path) -> None:
    """Make ``workdir`` the demo's, empty: a new folder, an empty one, or one an earlier
    demo made (it holds ``MARKER``). Any other is refused and left exactly as it is."""
    if check_workdir(workdir):
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by 'medval demo': the next demo here empties it\n")


def check_workdir(workdir: Path) -> bool:
    """Whether ``workdir`` is an earlier demo's (to empty); refused when the demo may not
    use it (a file, a link, or a folder with what the demo did not make)."""
    if workdir.is_symlink() or (workdir.exists() and not workdir.is_dir()):
        raise InvalidInput(f"--workdir {workdir} is not a folder; give a new or empty folder")
    if workdir.is_dir() and any(workdir.iterdir()):
        marker = workdir / MARKER
        if marker.is_symlink() or not marker.is_file():
            raise InvalidInput(
                f"--workdir {workdir} is not empty and was not made by medval demo; "
                "give a new or empty folder (nothing was removed)"
            )
        return True
    return False
