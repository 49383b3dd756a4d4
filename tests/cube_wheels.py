"""Wheels made by hand for the tests (no network, no build backend), and cubes shipping them.

A wheel is a zip with the package's files and a ``.dist-info`` folder whose ``RECORD``
lists every file with its hash (PEP 427); pip installs it as any other. Written with a
fixed date, so the same content always gives the same bytes (and the same sha256).
"""

from __future__ import annotations

import base64
import hashlib
import textwrap
import zipfile
from pathlib import Path

from medval.core.cube_spec import SPEC_FILE
from medval.core.hashing import sha256_file

_DATE = (2024, 1, 1, 0, 0, 0)


def write_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """``<name>-<version>-py3-none-any.whl`` in ``folder`` holding ``files`` (path: text)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: medval-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for path, text in contents.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(zipfile.ZipInfo(path, _DATE), text)
    return wheel


def lock_line(wheel: Path) -> str:
    """The lock's line for a wheel: ``name==version --hash=sha256:...``."""
    name, version = wheel.name.split("-")[:2]
    return f"{name}=={version} \\\n    --hash=sha256:{sha256_file(wheel)}\n"


PROBE_MODULE = "medval_probe_wheel"


def write_environment_cube(folder: Path, script: str, with_environment: bool = True) -> Path:
    """A model cube whose ``infer`` runs ``script`` and ships a wheel of
    ``medval_probe_wheel`` (``VALUE = 42``), declared in its spec when
    ``with_environment``; returns the wheel."""
    folder.mkdir(parents=True)
    wheel = write_wheel(
        folder / "wheels",
        "medval_probe_wheel",
        "1.0",
        {f"{PROBE_MODULE}/__init__.py": "VALUE = 42\n"},
    )
    (folder / "requirements.lock").write_text("# pinned\n" + lock_line(wheel))
    spec = "name: probe\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    if with_environment:
        spec += (
            "environment:\n  python:\n    requirements: requirements.lock\n    wheels: wheels/\n"
        )
    (folder / SPEC_FILE).write_text(spec)
    (folder / "infer.py").write_text(textwrap.dedent(script))
    return wheel
