"""Which statistics or results file a cube's task wrote, and how safely it is read.

Which file is read, in the task's output folder (:func:`read_task_document`):

- a container format (MedPerf, MLCube) whose ``output_path`` is a file: that file, by the
  name its spec gives it (``/medperf_statistics.yaml`` is ``medperf_statistics.yaml``);
- otherwise ``results.json`` (``statistics.json``), else ``results.yaml``, else
  ``results.yml``. A cube in medval's own format that writes ``results.json`` gets the
  strict reading of :func:`medval.core.documents.read_document`, exactly as before;
  every other file is mapped by the rules of :mod:`medval.core.document_mapping`.

The file itself is read as :func:`medval.core.documents.read_cube_document` reads any
document (no link, a regular file, at most 1 MiB, nested at most 8 deep; for YAML the
nesting is counted on the parser's events before anything is built), YAML with
``safe_load``'s types only (a Python object tag is a value of another kind, left out),
and a walk that visits more than
:data:`~medval.core.document_mapping.MAX_VISITED` values (aliases can repeat a mapping
many times over) is refused in one line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from medval.core.cube_spec import RESULTS_FILE, SPEC_FILE, STATISTICS_FILE, CubeSpec
from medval.core.document_mapping import D, ReadDocument, Unreadable, kind_of, map_document
from medval.core.documents import (
    MAX_DOCUMENT_DEPTH,
    ResultDocument,
    read_cube_document,
    read_document,
)
from medval.core.errors import InvalidInput
from medval.core.nesting import load_json
from medval.core.syntax_errors import json_problem, yaml_problem

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """``safe_load``'s types; an unknown tag becomes a value to leave out, not an error."""


_Loader.add_constructor(None, lambda loader, node: Unreadable(str(node.tag)))


def read_task_document(
    kind: type[D], spec: CubeSpec, task: str, folder: Path, what: str
) -> ReadDocument[D]:
    """The statistics or results file that ``task`` of ``spec`` wrote in ``folder``."""
    native = RESULTS_FILE if kind is ResultDocument else STATISTICS_FILE
    points = spec.task(task).mount_points or ()
    declared = next((p.file_name for p in points if p.name == "output_path" and p.file_name), None)
    if declared is not None:
        return read_free_document(kind, folder / declared, what)
    stem = native.removesuffix(".json")
    names = (native, f"{stem}.yaml", f"{stem}.yml")
    found = next((name for name in names if os.path.lexists(folder / name)), None)
    if found is None:
        raise InvalidInput(f"the cube wrote no {native} (nor {stem}.yaml) ({what})")
    if found == native and spec.spec_file == SPEC_FILE:
        return read_strict_document(kind, folder / native, what)
    return read_free_document(kind, folder / found, what)


def read_free_document(kind: type[D], path: Path, what: str) -> ReadDocument[D]:
    """A statistics or results file of any cube format, mapped by the module's rules."""
    raw = read_cube_document(path, what)
    data = _parse(raw, path.name, what)
    if data is None:
        raise InvalidInput(f"the cube wrote nothing in {path.name} ({what})")
    if not isinstance(data, dict):
        raise InvalidInput(
            f"the cube's {path.name} is {kind_of(data)}, not a mapping at the top level ({what})"
        )
    return map_document(kind, data, path.name, what)


def read_strict_document(kind: type[D], path: Path, what: str) -> ReadDocument[D]:
    """medval's own ``results.json`` or ``statistics.json``: strict, nothing left out."""
    return ReadDocument(read_document(kind, path, what), [], path.name)


def _parse(raw: bytes, name: str, what: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"the cube's {name} is not UTF-8 text ({what})") from None
    if name.endswith(".json"):
        try:
            return load_json(text) if text.strip() else None
        except ValueError as exc:
            raise InvalidInput(
                f"the cube's {name} is not valid JSON: {json_problem(exc)} ({what})"
            ) from None
    try:
        _check_yaml_depth(text, name, what)
        return yaml.load(text, Loader=_Loader)  # a safe loader: see _Loader
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        if isinstance(exc, yaml.YAMLError):
            first = yaml_problem(exc)
        else:
            first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InvalidInput(f"the cube's {name} is not valid YAML: {first} ({what})") from None


def _check_yaml_depth(text: str, name: str, what: str) -> None:
    """Nesting counted on the parser's events, before the (recursive) composer builds it."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DOCUMENT_DEPTH:
                raise InvalidInput(
                    f"the cube's {name} is nested deeper than {MAX_DOCUMENT_DEPTH} levels ({what})"
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
