"""YAML and JSON that a person or a program wrote, parsed without exhausting the stack.

PyYAML's composer and the ``json`` module recurse once per level of nesting, so a file
of ten thousand ``[`` raises ``RecursionError``, which is not an error a user should ever
see as a traceback. Here:

- YAML's nesting is counted on the parser's events (the parser keeps its own stack, not
  Python's) before anything is built, and refused beyond ``MAX_DEPTH`` levels;
- JSON is parsed by the ``json`` module, whose decoder checks the interpreter's recursion
  limit at every level and stops cleanly; that is turned into the same error.

Either way the caller gets ``NestedTooDeep``, a ``ValueError``, and words it in one line
as it words any other unreadable file. (Cube documents have their own, smaller limit:
:mod:`medval.core.documents`.)

Imports: the standard library and PyYAML (where YAML is read: a command that reads only
JSON, ``medval results list --local``, starts without it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

# Far beyond any real spec, parameters file, manifest or record, well within the stack.
MAX_DEPTH = 100


class NestedTooDeep(ValueError):
    """A YAML or JSON text nested deeper than medval reads."""


def check_yaml_depth(text: str, loader: type[yaml.SafeLoader] | None = None) -> None:
    """Raise ``NestedTooDeep`` when ``text`` nests more than ``MAX_DEPTH`` collections
    (parsed by ``loader``, PyYAML's safe loader unless given)."""
    import yaml  # here, not above: see the module's docstring

    depth = 0
    for event in yaml.parse(text, Loader=loader or yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise NestedTooDeep(f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` after the depth check (``yaml.YAMLError`` for bad YAML)."""
    import yaml  # here, not above: see the module's docstring

    check_yaml_depth(text)
    return yaml.safe_load(text)


def load_json(text: str | bytes) -> Any:
    """``json.loads`` (``ValueError`` for bad JSON), with ``NestedTooDeep`` for a text that
    nests deeper than the interpreter can follow."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeep("nested too deep to read") from None
