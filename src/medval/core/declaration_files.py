"""A benchmark's declarations file: its metrics (and subgroup variables), as YAML or JSON.

::

    metrics:
      - {name: auroc, label: AUROC, direction: higher, scale: proportion, primary: true}
      - {name: sensitivity, label: Sensitivity, scale: proportion, of: positives}
      - {name: brier, label: Brier score, direction: lower}
    subgroups:                       # optional
      - {name: age_band, label: Age band, levels: ["<50", "50-69", "70+"]}

A file that cannot be read, is not such a mapping, or declares something invalid is one
line naming the file and the problem (InvalidInput). :func:`declarations_text` writes a
declaration back in this form (the inferred one is printed so that it can be edited).

Imports: yaml and the core.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from medval.core.declarations import (
    DeclaredMetrics,
    DeclaredSubgroups,
    MetricDeclaration,
    SubgroupDeclaration,
)
from medval.core.errors import InvalidInput, describe_problems
from medval.core.syntax_errors import yaml_problem

MAX_DECLARATIONS_BYTES = 256 * 1024
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DeclarationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: DeclaredMetrics
    subgroups: DeclaredSubgroups = []


@dataclass(frozen=True)
class Declarations:
    metrics: list[MetricDeclaration]
    subgroups: list[SubgroupDeclaration] = field(default_factory=list)


def read_declarations(path: Path) -> Declarations:
    """The declarations in ``path`` (YAML, of which JSON is a part); one line if bad."""
    try:
        if path.stat().st_size > MAX_DECLARATIONS_BYTES:
            raise InvalidInput(f"declarations file {path}: larger than 256 KiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"declarations file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"declarations file {path} cannot be read: {exc}") from None
    try:
        data: Any = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise InvalidInput(
            f"declarations file {path}: not YAML or JSON: {yaml_problem(exc)}"
        ) from None
    if not isinstance(data, dict) or "metrics" not in data:
        raise InvalidInput(f"declarations file {path}: expected a mapping with a 'metrics:' list")
    try:
        parsed = _DeclarationsFile.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"declarations file {path}: {_problem(exc)}") from None
    if not parsed.metrics:
        raise InvalidInput(f"declarations file {path}: 'metrics:' declares no metric")
    return Declarations(list(parsed.metrics), list(parsed.subgroups))


def _problem(exc: ValidationError) -> str:
    """The first problem in one line; a rule of core.declarations says where it is itself
    (``metrics: mark exactly one metric primary``)."""
    problems: list[dict[str, Any]] = [
        {"loc": tuple(p["loc"]), "msg": str(p["msg"]).removeprefix("Value error, ")}
        for p in exc.errors(include_url=False)
    ]
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"])
    if message.startswith((f"{where}: ", "metric ")):
        first["loc"] = ()
    return describe_problems(problems)


def declarations_text(
    metrics: Sequence[MetricDeclaration], subgroups: Sequence[SubgroupDeclaration] = ()
) -> str:
    """``metrics`` (and ``subgroups``) as a declarations file says them (one flow mapping
    a line)."""
    lines = ["metrics:"]
    for m in metrics:
        fields = [
            f"name: {m.name}",
            f"label: {_quoted(m.label)}",
            f"direction: {m.direction.value}",
            f"scale: {m.scale.value}",
        ]
        if m.of is not None:
            fields.append(f"of: {m.of.value}")
        if m.primary:
            fields.append("primary: true")
        lines.append(f"  - {{{', '.join(fields)}}}")
    if subgroups:
        lines.append("subgroups:")
    for g in subgroups:
        fields = [f"name: {g.name}", f"label: {_quoted(g.label)}"]
        if g.levels is not None:
            fields.append(f"levels: [{', '.join(_quoted(level) for level in g.levels)}]")
        lines.append(f"  - {{{', '.join(fields)}}}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted one
