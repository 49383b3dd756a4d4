"""The Python row: the interpreter is one that medval supports (``requires-python`` of
the installed distribution, as ``pyproject.toml`` declares it)."""

from __future__ import annotations

from importlib import metadata

from packaging.specifiers import SpecifierSet

from medval.client.machine_checks.results import CheckResult, Machine, ok, problem


def supported_pythons() -> str:
    """medval's ``Requires-Python`` (``>=3.11``); empty when it is not installed as a
    distribution (a bare checkout on PYTHONPATH)."""
    try:
        wanted = metadata.metadata("medval").json.get("requires_python", "")
    except metadata.PackageNotFoundError:
        return ""
    return str(wanted)


def python_row(machine: Machine, supported: str | None = None) -> CheckResult:
    check = "python"
    wanted = supported_pythons() if supported is None else supported
    version = ".".join(str(part) for part in machine.python_version)
    if not wanted:
        return ok(check, f"Python {version} (medval's supported range is not recorded)")
    if version not in SpecifierSet(wanted):
        found = f"Python {version}; medval needs {wanted}"
        return problem(check, found, f"install medval under a Python {wanted}", True)
    return ok(check, f"Python {version} (medval needs {wanted})")
