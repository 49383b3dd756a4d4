"""medval's look: the one style sheet of its pages, shared by the hosted pages
(``server/web``) and the data owner's console (``console``), which adds only its own
rules. Assets only; imports the standard library.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent
