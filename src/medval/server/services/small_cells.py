"""The server's side of small-cell suppression: refuse what the data owner's client should
have withheld.

The client withholds small cells before the review (core.small_cells); a client that does
not (an old one, a script, an attacker) is refused here, with the same check, against
the benchmark's ``min_cell_count``: a result on upload (its subgroup levels too,
core.subgroup_cells), a dataset's statistics when it asks to join the benchmark (until
then only its owner and admins see them). One line names the first field found.
Imports core and the store's records only.
"""

from __future__ import annotations

from medval.core.documents import ResultDocument
from medval.core.errors import InvalidInput
from medval.core.small_cells import SmallCell, small_cells_in_result, small_cells_in_statistics
from medval.core.subgroup_cells import not_declared, small_cells_in_subgroups
from medval.server.store.records import BenchmarkRecord, DatasetRecord


def _refuse(what: str, field: str, cell: SmallCell, benchmark: BenchmarkRecord) -> InvalidInput:
    return InvalidInput(
        f"{what} {field}{cell.path} is a small cell: {cell.reason} "
        f"(benchmark {benchmark.name}); medval's client withholds small cells"
    )


def require_no_small_cells_in_statistics(
    benchmark: BenchmarkRecord, dataset: DatasetRecord
) -> None:
    cells = small_cells_in_statistics(dataset.statistics, benchmark.min_cell_count)
    if cells:
        field = "" if cells[0].path == "n_cases" else "values."
        raise _refuse(
            f"dataset {dataset.name}: its statistics",
            f"statistics.{field}",
            cells[0],
            benchmark,
        )


def require_no_small_cells_in_result(benchmark: BenchmarkRecord, document: ResultDocument) -> None:
    cells = small_cells_in_result(document, benchmark.min_cell_count)
    cells = cells or small_cells_in_subgroups(document, benchmark.min_cell_count)
    if cells:
        raise _refuse("the result's", "document.", cells[0], benchmark)


def require_declared_subgroups(benchmark: BenchmarkRecord, document: ResultDocument) -> None:
    """A result's subgroups are the benchmark's declared variables and levels."""
    reason = not_declared(document, benchmark.subgroups)
    if reason is not None:
        raise InvalidInput(f"the result's document: {reason} (benchmark {benchmark.name})")
