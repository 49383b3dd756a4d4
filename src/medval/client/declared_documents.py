"""What medval reads of an evaluator's document when the benchmark declares its metrics:
only those (``core.declared_results``); a document it will not read is refused with a
verdict in medval's own words.

Imports: the core, and how messages name a cube.
"""

from __future__ import annotations

from collections.abc import Sequence

from medval.client.cube_names import describe
from medval.core.declarations import MetricDeclaration
from medval.core.declared_results import declared_document
from medval.core.document_mapping import LeftOut
from medval.core.documents import ResultDocument
from medval.core.errors import InvalidInput
from medval.core.schemas import CubePublic


class DocumentRefused(InvalidInput):
    """A document a cube wrote that medval will not read. ``verdict`` says so in medval's
    own words, without quoting the document (as ``SandboxError.verdict`` does)."""

    def __init__(self, message: str, verdict: str) -> None:
        super().__init__(message)
        self.verdict = verdict


NOT_DECLARED = "not declared by the benchmark"


def as_declared(
    declared: Sequence[MetricDeclaration],
    document: ResultDocument,
    withheld: Sequence[LeftOut],
    evaluator: CubePublic,
) -> tuple[ResultDocument, list[LeftOut]]:
    """The document with only the declared metrics (core.declared_results), and the others
    as left out. A declared metric withheld as a small cell counts as reported missing."""
    if not declared:
        return document, []
    small = {item.path for item in withheld if item.small_cell}
    what = f"{describe(evaluator)}'s results"
    try:
        checked = declared_document(declared, document, what, small)
    except InvalidInput as exc:
        verdict = f"{describe(evaluator)} wrote results that do not match the declared metrics"
        raise DocumentRefused(exc.message, verdict) from exc
    return checked.document, [LeftOut(path=n, reason=NOT_DECLARED) for n in checked.undeclared]
