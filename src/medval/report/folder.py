"""Writing a report into a folder: ``report.html``, ``report.json`` and one CSV per table.

The folder is new, empty, or an earlier report's: a report overwrites only its own files
and refuses a folder that holds anything else (it deletes nothing it did not write).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from pathlib import Path

from medval.core.errors import InvalidInput
from medval.report.evidence import Evidence
from medval.report.page import render_page
from medval.report.tables import FILE_NAMES, Table, tables

PAGE = "report.html"
JSON = "report.json"


def file_names() -> list[str]:
    """Every file a report writes, the page first."""
    return [PAGE, JSON, *FILE_NAMES]


def write_report(evidence: Evidence, folder: Path) -> list[Path]:
    """Write the report of ``evidence`` into ``folder``; the paths written, page first."""
    _check_folder(folder)
    text = evidence.model_dump_json(indent=2) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    contents = {JSON: text}
    for table in tables(evidence):
        contents[table.file_name] = _csv(table)
    contents[PAGE] = render_page(evidence, digest, file_names())
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in file_names():
        written.append(_replace(folder / name, contents[name]))
    return written


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file, not a folder: choose a folder for the report")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in file_names())
        if others:
            raise InvalidInput(
                f"{folder} holds files that are not a medval report's ({', '.join(others[:3])}"
                f"{', ...' if len(others) > 3 else ''}): choose a new or empty folder"
            )


def _csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    return out.getvalue()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _replace(path: Path, text: str) -> Path:
    """Write ``path`` whole or not at all (a report read while written is never half one)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # as any file made here (mkstemp makes 600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
