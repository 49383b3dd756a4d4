"""The only shapes of site data that may leave a hospital: statistics and results.

Both are strict (unknown fields refused, bounded sizes, finite numbers only) so that an
evaluator or preparation cube cannot smuggle per-case rows out inside a free-form blob.
The data owner still sees the exact payload and approves it before anything is sent.
A metric or statistic may be *missing* (``null``: the evaluator reported it as not a
number); the counts ``n_cases`` and ``n_positive`` may be absent (MedPerf's documents
have none). What MedPerf cubes write instead is mapped onto these shapes by
:mod:`medval.core.document_mapping`.

:func:`read_document` reads one as a cube wrote it, trusting nothing about the file:
never through a link, only a regular file, at most :data:`MAX_DOCUMENT_BYTES`, nested
at most :data:`MAX_DOCUMENT_DEPTH` deep; anything else is one line (InvalidInput).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)

from medval.core.cube_files import NotRegular, TooLarge, read_regular
from medval.core.errors import InvalidInput
from medval.core.subgroup_names import (
    MAX_SUBGROUP_LEVELS,
    MAX_SUBGROUP_VARIABLES,
    LevelName,
    VariableName,
)

MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
MAX_METRICS = 64
MAX_STATISTICS = 256
# The largest valid document is a few KiB and three levels deep; these leave room.
MAX_DOCUMENT_BYTES = 1 << 20
MAX_DOCUMENT_DEPTH = 8
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
D = TypeVar("D", bound=BaseModel)


def no_nul(value: str) -> str:
    """Refuse a NUL character (PostgreSQL cannot store one in text or JSON)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _finite(value: int | float | None) -> int | float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


PlainString = Annotated[str, AfterValidator(no_nul)]


class MetricValue(BaseModel):
    """A point estimate with its confidence interval computed at the site.

    ``value`` None: the evaluator reported the metric as not a number (missing); it is
    shown as missing and never pooled.
    """

    model_config = ConfigDict(extra="forbid")

    # int | float: a number written whole (``2``) stays whole, so that a count an
    # evaluator reports as a metric is recognised as one (core.small_cells).
    value: StrictInt | StrictFloat | None
    lower: StrictInt | StrictFloat | None = None
    upper: StrictInt | StrictFloat | None = None

    _check = field_validator("value", "lower", "upper")(_finite)


class SubgroupResult(BaseModel):
    """One level of a subgroup variable (the cases aged 50-69, of grade 3...): its counts
    and its metrics. ``n_cases`` is required: medval withholds a level smaller than the
    benchmark's minimum cell size (:mod:`medval.core.subgroup_cells`) and must know it."""

    model_config = ConfigDict(extra="forbid")

    n_cases: StrictInt = Field(ge=0)
    n_positive: StrictInt | None = Field(default=None, ge=0)
    metrics: dict[MetricName, MetricValue] = Field(max_length=MAX_METRICS)


# variable -> level -> that level's result; bounded like the rest of the document.
SubgroupResults = dict[
    VariableName,
    Annotated[dict[LevelName, SubgroupResult], Field(max_length=MAX_SUBGROUP_LEVELS)],
]


class ResultDocument(BaseModel):
    """What an evaluator produces and a data owner may upload: aggregates only, for all
    cases and (optionally) for each level of the benchmark's subgroup variables."""

    model_config = ConfigDict(extra="forbid")

    n_cases: StrictInt | None = Field(default=None, ge=0)
    n_positive: StrictInt | None = Field(default=None, ge=0)
    metrics: dict[MetricName, MetricValue] = Field(max_length=MAX_METRICS)
    # None: the evaluator reported no subgroups; then left out of the JSON (exclude_if), so
    # that a document without any reads as it did before them, to clients of then too.
    subgroups: SubgroupResults | None = Field(
        default=None, max_length=MAX_SUBGROUP_VARIABLES, exclude_if=lambda v: v is None
    )


# None: reported as not a number (missing).
# Strict: a JSON true or false is not a number (pydantic would read it as 1.0 or 0.0).
StatisticValue = StrictFloat | StrictInt | None | dict[MetricName, StrictFloat | StrictInt | None]


class PreparationCounts(BaseModel):
    """medval's own count of the cases a preparation workflow left out of the prepared
    data: excluded by the data owner, and set aside (a step failed on them). Counts only:
    which cases stays on the data owner's machine."""

    model_config = ConfigDict(extra="forbid")

    excluded: StrictInt = Field(ge=0)
    set_aside: StrictInt = Field(ge=0)


class DatasetStatistics(BaseModel):
    """Summary statistics of a prepared dataset: counts, means, category frequencies; and,
    for a preparation by a workflow, how many cases it left out (``preparation``, set by
    medval, never by the cube: what a cube writes there is replaced)."""

    model_config = ConfigDict(extra="forbid")

    n_cases: StrictInt | None = Field(default=None, ge=0)
    values: dict[MetricName, StatisticValue] = Field(
        default_factory=dict, max_length=MAX_STATISTICS
    )
    # None: prepared without a workflow; then left out of the JSON, as before the field.
    preparation: PreparationCounts | None = Field(default=None, exclude_if=lambda v: v is None)

    @field_validator("values")
    @classmethod
    def _finite_values(cls, values: dict[str, StatisticValue]) -> dict[str, StatisticValue]:
        # NaN and Infinity are not JSON: stored, they would break every listing after.
        for name, value in values.items():
            inner = value if isinstance(value, dict) else {"": value}
            for key, number in inner.items():
                if isinstance(number, float) and not math.isfinite(number):
                    where = f"{name}.{key}" if key else name
                    raise ValueError(
                        f"{where} is not a finite number (report a missing value as null)"
                    )
        return values


class Provenance(BaseModel):
    """Every hash that produced a result, re-checked by the server on upload: the
    dataset's, each cube archive's and, for a cube with its own container image, the
    image's ID (None: the cube has none)."""

    model_config = ConfigDict(extra="forbid")

    dataset_hash: PlainString
    data_preparator_hash: PlainString
    model_hash: PlainString
    evaluator_hash: PlainString
    data_preparator_image: PlainString | None = None
    model_image: PlainString | None = None
    evaluator_image: PlainString | None = None


def read_document(kind: type[D], path: Path, what: str) -> D:
    """Read a document a cube wrote at ``path``; anything amiss is one clear line."""
    raw = read_cube_document(path, what)
    try:
        return kind.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0:3]
        raise InvalidInput(
            f"the cube's {path.name} is not a valid {what} document: {' '.join(first)}"
        ) from exc


def read_cube_document(path: Path, what: str) -> bytes:
    """The bytes of a document a cube wrote, read as the module docstring says."""
    name = path.name
    try:
        raw = read_regular(path, MAX_DOCUMENT_BYTES)
    except FileNotFoundError as exc:
        raise InvalidInput(f"the cube wrote no {name} ({what})") from exc
    except NotRegular as exc:
        raise InvalidInput(f"the cube's {name} is {exc.kind}, not a file ({what})") from exc
    except TooLarge as exc:
        raise InvalidInput(
            f"the cube's {name} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB "
            f"({exc.size} bytes; {what})"
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"the cube's {name} cannot be read: {exc.strerror} ({what})") from exc
    if _depth_exceeds(raw.decode("utf-8", errors="replace"), MAX_DOCUMENT_DEPTH):
        raise InvalidInput(
            f"the cube's {name} is nested deeper than {MAX_DOCUMENT_DEPTH} levels ({what})"
        )
    return raw


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays or objects inside each other.

    Checked before parsing: the parser (and anything walking what it built) recurses once
    per level, and a document of a few hundred thousand brackets would exhaust the stack.
    """
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False
