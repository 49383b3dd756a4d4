"""What the MLCube and MedPerf readers share: small, checked accessors."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from medval.core.errors import InvalidInput


def mapping_at(where: Path, raw: Any, what: str, required: bool = True) -> dict[str, Any]:
    """``raw`` as a mapping (absent: empty, unless required)."""
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise InvalidInput(f"{where}: {what} must be a mapping")
    return raw


def text_at(where: Path, raw: Any, what: str) -> str:
    """A non-empty string, stripped."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{where}: {what} must be a non-empty string")
    return raw.strip()


def words_at(where: Path, raw: Any, what: str) -> tuple[str, ...]:
    """A command as a string (split like a shell would) or a list of strings; absent: ()."""
    if raw is None:
        return ()
    if isinstance(raw, list) and raw and all(isinstance(word, str) for word in raw):
        return tuple(raw)
    if isinstance(raw, str) and raw.strip():
        try:
            return tuple(shlex.split(raw))
        except ValueError as exc:
            raise InvalidInput(f"{where}: {what} cannot be split into words: {exc}") from exc
    raise InvalidInput(f"{where}: {what} must be a command (a string or a list of strings)")


def volume_type_is_file(where: Path, raw: Any, what: str) -> bool:
    """``type: file`` or ``type: directory`` (both formats' words)."""
    if raw not in ("file", "directory"):
        raise InvalidInput(f"{where}: {what} 'type' must be file or directory")
    return bool(raw == "file")
