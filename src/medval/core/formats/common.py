"""What the MLCube and MedPerf readers share: small, checked accessors."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from medval.core.errors import InvalidInput
from medval.core.task_environment import FIXED, VARIABLE_NAME, overridden


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


def environment_at(where: Path, raw: Any, what: str) -> tuple[tuple[str, str], ...]:
    """Variables as a mapping (``NAME: value``) or a list of ``NAME=value``; absent: ().

    A value is a string or a number; a name is a shell variable's name.
    """
    if raw is None:
        return ()
    if isinstance(raw, list) and all(isinstance(item, str) and "=" in item for item in raw):
        pairs = [tuple(item.split("=", 1)) for item in raw]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise InvalidInput(f"{where}: {what} must be a mapping of NAME: value")
    variables: dict[str, str] = {}
    for name, value in pairs:
        if not (isinstance(name, str) and VARIABLE_NAME.match(name)):
            raise InvalidInput(f"{where}: {what}: {name!r} is not a variable name")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidInput(f"{where}: {what}: {name} must be a string or a number")
        if "\0" in str(value):
            raise InvalidInput(f"{where}: {what}: {name} holds a NUL character")
        variables[name] = str(value)
    return tuple(variables.items())


class Notes:
    """What a spec declares that medval does not honour, one line each."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, reason: str) -> None:
        self.lines.append(f"{key} ({reason})")

    def unknown(
        self,
        prefix: str,
        raw: dict[str, Any],
        used: Iterable[str],
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        """A note for each key of ``raw`` medval does not read: its reason, or unknown.

        A key that asks for nothing (``gpus: 0``, ``platform: {accelerator_count: 0}``)
        is no note: medval does that already.
        """
        known = set(used)
        for key, value in raw.items():
            if key not in known and not _asks_nothing(value):
                self.add(f"{prefix}{key}", (reasons or {}).get(key, "not read by medval"))

    def environment(self, prefix: str, declared: tuple[tuple[str, str], ...]) -> None:
        for name in overridden(declared):
            self.add(f"{prefix}{name}", f"medval sets {name}={FIXED[name]} itself")


def _asks_nothing(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_asks_nothing(item) for item in value.values())
    if isinstance(value, list):
        return all(_asks_nothing(item) for item in value)
    return value is None or value is False or value in (0, "", "0")
