"""Free-form statistics and results, as MedPerf cubes write them, mapped onto medval's.

A MedPerf preparation cube's ``statistics`` task and its metrics cube's ``evaluate`` task
write a free-form YAML (or JSON) file: nested mappings, NaN, lists of per-case values,
text. medval sends only its own documents (:mod:`medval.core.documents`), so such a file
is mapped onto them by these rules, in the file's own order:

1. The top level must be a mapping; anything else is one line (InvalidInput). An empty
   file is "the cube wrote nothing". A file that already is a valid medval document is
   taken as it is.
2. ``n_cases`` (and, for results, ``n_positive``) at the top level, a whole number >= 0,
   are the document's counts; absent, the counts are absent (shown as "-").
3. Every number at any depth becomes one metric (results) or statistic (statistics),
   named by its path of keys joined with ``_``: lower-cased, every run of characters
   other than ``a-z`` and ``0-9`` made one ``_``, a name not starting with a letter
   prefixed with ``x_`` (``AUC: {Label 1: 0.8}`` is ``auc_label_1``). The top-level
   ``metrics`` mapping of results and ``values`` mapping of statistics add nothing to
   the names (a medval-shaped document reads as itself). Two values whose names come
   out the same are refused in one line, naming both.
4. In results, a mapping of ``value`` with ``lower`` and/or ``upper`` (and nothing
   else) is one metric with its interval.
5. NaN, infinity, ``null`` and the words ``nan``/``inf`` are a *missing* value: kept,
   shown as missing, never pooled, never a reason to refuse the document. A bound of an
   interval that is not a finite number leaves the metric without that bound.
6. What medval will not send is **left out, and named** (its path and why) in the
   review the data owner sees before anything is sent; it is kept with the local
   result or dataset, never sent, never silently dropped:

   - a list (per-case values, say), whatever its length;
   - text, yes/no values, dates and anything else that is not a number;
   - a mapping of more than :data:`MAX_TABLE_ENTRIES` entries below the top level (a
     per-case or per-item table), as a whole;
   - a name longer than 64 characters;
   - every value past the first :data:`~medval.core.documents.MAX_METRICS` metrics or
     :data:`~medval.core.documents.MAX_STATISTICS` statistics.

   At most :data:`MAX_NAMED_LEFT_OUT` are named one by one; the rest are counted.

Which file is read, and how safely: :mod:`medval.core.document_files`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from medval.core.documents import (
    MAX_METRICS,
    MAX_STATISTICS,
    DatasetStatistics,
    MetricValue,
    ResultDocument,
)
from medval.core.errors import InvalidInput

MAX_TABLE_ENTRIES = 32
MAX_NAMED_LEFT_OUT = 50
MAX_VISITED = 20_000
MAX_NAME = 64
_MISSING_WORDS = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity"})
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_INTERVAL_KEYS = frozenset({"value", "lower", "upper"})

Document = ResultDocument | DatasetStatistics
D = TypeVar("D", ResultDocument, DatasetStatistics)


class LeftOut(BaseModel):
    """A value of a cube's document that medval does not send: where it is, and why."""

    path: str
    reason: str
    # Withheld as a small cell (medval.core.small_cells), not left out for its shape.
    small_cell: bool = False


@dataclass(frozen=True)
class ReadDocument(Generic[D]):
    """A document as medval sends it, and what of the cube's file was left out.

    ``groups`` says, for a statistic flattened out of a mapping (``age_band:
    {under_40: …}`` is ``age_band_under_40``), the path of the mapping it came from:
    its counts are one group for small-cell suppression (:mod:`medval.core.small_cells`).
    """

    document: D
    left_out: list[LeftOut]
    file_name: str
    groups: dict[str, str] = field(default_factory=dict)


def map_document(kind: type[D], data: dict[Any, Any], name: str, what: str) -> ReadDocument[D]:
    """A cube's file, parsed to a top-level mapping, as medval's document (the rules above):
    taken as it is when it already is one."""
    try:
        return ReadDocument(kind.model_validate(data), [], name)
    except ValidationError:
        pass
    mapped = _Mapping(kind, name, what)
    mapped.walk(data)
    return ReadDocument(mapped.document(), mapped.named_left_out(), name, mapped.groups)


class Unreadable:
    """A YAML value of a tag ``safe_load`` does not build (a Python object, say)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag


def metric_name(path: tuple[str, ...]) -> str:
    """A path of keys as a medval name (rule 3); may be longer than allowed."""
    name = _NOT_NAME.sub("_", "_".join(path).lower()).strip("_")
    return name if name[:1].isalpha() else f"x_{name}".rstrip("_")


@dataclass
class _Mapping:
    """One walk over a cube's document, collecting what is sent and what is left out."""

    kind: type[Document]
    file_name: str
    what: str
    counts: dict[str, int] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    visited: int = 0

    @property
    def is_results(self) -> bool:
        return self.kind is ResultDocument

    @property
    def limit(self) -> int:
        return MAX_METRICS if self.is_results else MAX_STATISTICS

    def walk(self, top: dict[Any, Any]) -> None:
        count_keys = ("n_cases", "n_positive") if self.is_results else ("n_cases",)
        container = "metrics" if self.is_results else "values"
        for key, value in top.items():
            key_text = str(key)
            if key_text in count_keys:
                self._count(key_text, value)
            elif key_text == container and isinstance(value, dict):
                # medval's own shape: its entries are named as if at the top level.
                for inner_key, inner in value.items():
                    self._value((str(inner_key),), (container, str(inner_key)), inner)
            else:
                self._value((key_text,), (key_text,), value)

    def _count(self, key: str, value: Any) -> None:
        number = _whole(value)
        if number is None or number < 0:
            self._leave_out((key,), f"{kind_of(value)}, not a count of cases")
        else:
            self.counts[key] = number

    def _value(self, name_path: tuple[str, ...], path: tuple[str, ...], value: Any) -> None:
        self.visited += 1
        if self.visited > MAX_VISITED:
            raise InvalidInput(
                f"the cube's {self.file_name} holds more than {MAX_VISITED} values ({self.what})"
            )
        if isinstance(value, dict):
            self._mapping(name_path, path, value)
            return
        number = _number(value)
        if number is _NOT_A_NUMBER:
            self._leave_out(path, _not_sent(value))
            return
        self._keep(name_path, path, number)

    def _mapping(
        self, name_path: tuple[str, ...], path: tuple[str, ...], value: dict[Any, Any]
    ) -> None:
        if self.is_results and _is_interval(value):
            self._keep(name_path, path, self._interval(path, value))
            return
        if len(value) > MAX_TABLE_ENTRIES:
            self._leave_out(
                path,
                f"a mapping of {len(value)} entries (more than {MAX_TABLE_ENTRIES}: "
                "per-case or per-item values are not sent)",
            )
            return
        for key, inner in value.items():
            self._value((*name_path, str(key)), (*path, str(key)), inner)

    def _interval(self, path: tuple[str, ...], value: dict[Any, Any]) -> MetricValue:
        """Rule 4: ``value`` is a number (checked); a bound that is not one is left out."""
        bounds: dict[str, float | None] = {}
        for key, inner in value.items():
            number = _number(inner)
            if number is _NOT_A_NUMBER:
                self._leave_out((*path, str(key)), _not_sent(inner))
                number = None
            bounds[str(key)] = number
        return MetricValue(
            value=bounds["value"], lower=bounds.get("lower"), upper=bounds.get("upper")
        )

    def _keep(self, name_path: tuple[str, ...], path: tuple[str, ...], value: Any) -> None:
        name = metric_name(name_path)
        shown = _shown(path)
        if not name or len(name) > MAX_NAME:
            self._leave_out(path, f"its name {name!r} is not 1 to {MAX_NAME} characters long")
            return
        if name in self.paths:
            raise InvalidInput(
                f"the cube's {self.file_name} has two values named {name!r} "
                f"({self.paths[name]!r} and {shown!r}); rename one ({self.what})"
            )
        self.paths[name] = shown
        if len(self.values) >= self.limit:
            noun = "metrics" if self.is_results else "statistics"
            self._leave_out(path, f"beyond the {self.limit} {noun} medval sends")
            return
        if self.is_results and not isinstance(value, MetricValue):
            value = MetricValue(value=value)
        if not self.is_results and len(path) > 1:
            self.groups[name] = _shown(path[:-1])
        self.values[name] = value

    def _leave_out(self, path: tuple[str, ...], reason: str) -> None:
        self.left_out.append(LeftOut(path=_shown(path), reason=reason))

    def named_left_out(self) -> list[LeftOut]:
        named = self.left_out[:MAX_NAMED_LEFT_OUT]
        more = len(self.left_out) - len(named)
        if more:
            named.append(LeftOut(path="…", reason=f"and {more} more values left out"))
        return named

    def document(self) -> Any:
        try:
            if self.is_results:
                return ResultDocument(metrics=self.values, **self.counts)
            return DatasetStatistics(values=self.values, **self.counts)
        except ValidationError as exc:  # the rules above make this unreachable
            raise InvalidInput(
                f"the cube's {self.file_name} maps to no valid {self.what} document: "
                f"{str(exc).splitlines()[0]}"
            ) from exc


_NOT_A_NUMBER = object()


def _number(value: Any) -> Any:
    """A finite float or int, None (missing), or ``_NOT_A_NUMBER``."""
    if isinstance(value, bool):
        return _NOT_A_NUMBER
    if value is None:
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**53 else _finite(float(value))
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, str) and value.strip().lower() in _MISSING_WORDS:
        return None
    return _NOT_A_NUMBER


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _whole(value: Any) -> int | None:
    number = _number(value)
    if isinstance(number, int):
        return number
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return None


def _is_interval(value: dict[Any, Any]) -> bool:
    """``value`` (a number, or missing) with ``lower`` and/or ``upper``, nothing else."""
    keys = {str(key) for key in value}
    return (
        "value" in keys
        and len(keys) > 1
        and keys <= _INTERVAL_KEYS
        and len(keys) == len(value)
        and _number(value.get("value")) is not _NOT_A_NUMBER
    )


def _shown(path: tuple[str, ...]) -> str:
    """A path as the review shows it: keys joined with ``/``, each cut to 40 characters."""
    text = "/".join(key if len(key) <= 40 else key[:39] + "…" for key in path)
    return text if len(text) <= 160 else text[:159] + "…"


def _not_sent(value: Any) -> str:
    """Why a value that is not a number is left out."""
    if isinstance(value, list):
        return f"{kind_of(value)}; lists (per-case values, say) are never sent"
    return f"{kind_of(value)}; only numbers are sent"


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} entries"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    if isinstance(value, Unreadable):
        return f"a value tagged {value.tag}"
    return f"a value of another kind ({type(value).__name__})"
