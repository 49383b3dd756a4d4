"""How a command's output is written as CSV (``--format csv``).

One header row, then one row per record; a nested value (a list, a mapping) is compact
JSON in its cell, ``None`` an empty cell, a boolean ``true`` or ``false`` as in JSON. The
header is every key of the rows, in the order they first appear, so it holds every column
the table shows and every field the JSON carries. A ``show`` of one record is a header
and one row. A command whose JSON is not a flat list of records chooses its own rows (a
leaderboard: one per model) and says so in its help.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

Row = Mapping[str, Any]


def records(data: BaseModel | Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Every field of each record, as its JSON has it (a single record: one row)."""
    from pydantic import BaseModel

    items = [data] if isinstance(data, BaseModel) else list(data)
    return [item.model_dump(mode="json") for item in items]


def csv_cell(value: Any) -> str:
    """One value in a cell: nested values as compact JSON, so a program can read them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def header_of(rows: Iterable[Row], first: Sequence[str] = ()) -> list[str]:
    """Every key of the rows, in the order they first appear (``first`` before them)."""
    names = dict.fromkeys(first)
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def write_csv(out: IO[str], rows: Sequence[Row], first: Sequence[str] = ()) -> None:
    """The rows as CSV: one header row (nothing at all for no rows and no ``first``)."""
    header = header_of(rows, first)
    if not header:
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in header])
    out.flush()


def metric_cells(name: str, metric: Mapping[str, Any] | None) -> dict[str, Any]:
    """A metric (an estimate with its interval) as three cells: ``NAME``, ``NAME lower``,
    ``NAME upper``; the rest of what JSON says of it (heterogeneity, how it was pooled)
    in ``NAME details``."""
    metric = dict(metric or {})
    cells = {
        name: metric.pop("value", None),
        f"{name} lower": metric.pop("lower", None),
        f"{name} upper": metric.pop("upper", None),
    }
    if metric:
        cells[f"{name} details"] = metric
    return cells
