"""Where a YAML or JSON text is broken, in words a person can go to: the line, the column
and the parser's own reason, for the one line every such error becomes.

A file a user writes (a cube's spec, a plan, a declarations file, a bundle) or a cube
writes (its documents) that does not parse is refused naming the file, and this says
where in it: ``line 3, column 7: expected ',' or ']', but got '<stream end>'``.
Imports only the standard library (PyYAML's errors are read by their attributes).
"""

from __future__ import annotations

import json


def yaml_problem(exc: Exception) -> str:
    """'line L, column C: problem' for a PyYAML error (its marks count from 0)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    reason = str(problem) if problem else exc.__class__.__name__
    if mark is None:
        return reason
    return f"line {mark.line + 1}, column {mark.column + 1}: {reason}"


def json_problem(exc: ValueError) -> str:
    """'line L, column C: problem' for a ``json.JSONDecodeError``; the message otherwise."""
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
