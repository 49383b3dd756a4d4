"""A benchmark committee's use cases (issue 19): expecting sites, putting an account in an
institution (admins), reading the participation view, and exporting the participation
and results tables, each a flat row per site or per result, to a new file.

Imports the HTTP client and the core only; the CLI writes the rows (as CSV) through
``write_new_file``, which never leaves a half-written file or replaces one unasked.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from medval.client.accounts import find_user
from medval.client.http import MedvalClient
from medval.core.errors import Conflict, InvalidInput, describe_problems
from medval.core.participation_schemas import (
    BenchmarkParticipation,
    BenchmarkResultsExport,
    ExpectedSiteCreate,
    ExportTable,
    InstitutionChange,
    SiteKind,
)
from medval.core.schemas import UserPublic

Rows = list[dict[str, Any]]


def site_to_expect(user: str | None, institution: str | None) -> ExpectedSiteCreate:
    """Exactly one of ``--user`` and ``--institution``, as a site."""
    if (user is None) == (institution is None):
        raise InvalidInput("name one site: --user NAME or --institution NAME")
    kind, name = (SiteKind.USER, user) if user is not None else (SiteKind.INSTITUTION, institution)
    try:
        return ExpectedSiteCreate(kind=kind, name=name)
    except ValidationError as exc:
        raise InvalidInput(f"{kind.value} name: {describe_problems(exc.errors())}") from None


def set_institution(client: MedvalClient, username: str, institution: str | None) -> UserPublic:
    """An admin puts the account in ``institution`` (None: in none)."""
    try:
        change = InstitutionChange(institution=institution)
    except ValidationError as exc:
        raise InvalidInput(f"institution: {describe_problems(exc.errors())}") from None
    user = find_user(client, username)
    return client.participation.set_institution(user.id, change)


# --- the tables -------------------------------------------------------------------------

PARTICIPATION_COLUMNS = (
    "kind",
    "name",
    "expected",
    "expected_since",
    "accounts",
    "joined",
    "joined_at",
    "prepared",
    "datasets",
    "dataset_ids",
    "models_run",
    "results_sent",
    "first_result_at",
    "last_result_at",
    "waiting_for",
    "waiting_since",
)
RESULT_COLUMNS = (
    "result_id",
    "phase",
    "model_id",
    "model",
    "model_owner",
    "dataset_id",
    "dataset",
    "site",
    "status",
    "failure",
    "n_cases",
)


def participation_rows(view: BenchmarkParticipation) -> Rows:
    """One row per site; its datasets by registered name and id (lists as JSON cells)."""
    rows = []
    for site in view.sites:
        row = site.model_dump(mode="json", exclude={"datasets"})
        row["datasets"] = [d.dataset for d in site.datasets]
        row["dataset_ids"] = [d.dataset_id for d in site.datasets]
        rows.append({name: row[name] for name in PARTICIPATION_COLUMNS})
    return rows


def result_rows(export: BenchmarkResultsExport) -> Rows:
    """One row per result: its fields, then each metric as ``NAME``, ``NAME lower``,
    ``NAME upper`` (every metric any result reports, in the order first reported), then
    the dates."""
    names = list(dict.fromkeys(name for r in export.results for name in r.metrics))
    rows = []
    for result in export.results:
        row = result.model_dump(mode="json", include=set(RESULT_COLUMNS))
        row = {name: row[name] for name in RESULT_COLUMNS}
        for name in names:
            metric = result.metrics.get(name)
            row[name] = metric.value if metric is not None else None
            row[f"{name} lower"] = metric.lower if metric is not None else None
            row[f"{name} upper"] = metric.upper if metric is not None else None
        row["executed_at"] = result.model_dump(mode="json")["executed_at"]
        row["created_at"] = result.model_dump(mode="json")["created_at"]
        rows.append(row)
    return rows


def table_rows(client: MedvalClient, benchmark_id: int, table: ExportTable) -> Rows:
    """The table's rows, as the server gives them to the benchmark's committee."""
    match table:
        case ExportTable.PARTICIPATION:
            return participation_rows(client.participation.participation(benchmark_id))
        case ExportTable.RESULTS:
            return result_rows(client.participation.results_export(benchmark_id))


def table_header(table: ExportTable) -> tuple[str, ...]:
    """The columns written even when there is no row (the metrics come with rows)."""
    return PARTICIPATION_COLUMNS if table is ExportTable.PARTICIPATION else RESULT_COLUMNS


def check_new_file(destination: Path, force: bool) -> Path:
    """Where to write: refused when it exists (unless ``force``) or its folder does not."""
    destination = destination.expanduser()
    if destination.is_dir():
        raise InvalidInput(f"{destination} is a folder; name a file for the export")
    if (destination.exists() or destination.is_symlink()) and not force:
        raise Conflict(f"{destination} already exists; pass --force to replace it")
    if not destination.parent.is_dir():
        raise InvalidInput(f"folder {destination.parent} does not exist")
    return destination


def write_new_file(destination: Path, force: bool, write: Callable[[IO[str]], None]) -> Path:
    """``write`` into a file beside ``destination``, moved into place whole once written:
    an existing file stays as it was until then (and is never replaced unless ``force``)."""
    destination = check_new_file(destination, force)
    fd, partial = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
        if force:
            os.replace(partial, destination)
        else:
            # A link fails if the name was taken meanwhile: never over someone's file.
            _link_new(Path(partial), destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return destination


def _link_new(partial: Path, destination: Path) -> None:
    """``partial`` moved to ``destination`` only if the name is free: a hard link fails
    if it was taken meanwhile (where links are not supported, checked just before)."""
    taken = Conflict(f"{destination} already exists; pass --force to replace it")
    try:
        os.link(partial, destination)
    except FileExistsError as exc:
        raise taken from exc
    except OSError:
        if destination.exists() or destination.is_symlink():
            raise taken from None
        os.replace(partial, destination)
        return
    partial.unlink()
