"""The review of a result with subgroups: a level of 3 cases under k=5 is not in the
payload, and the review names it under the small cells' heading, with why."""

from __future__ import annotations

from medval.cli.render import print_result_document
from medval.core.documents import ResultDocument
from medval.core.subgroup_cells import suppress_subgroups
from tests.cli.test_render import _Screen


def _level(n: int, positive: int) -> dict[str, object]:
    auroc = {"value": 0.7312, "lower": 0.6137, "upper": 0.8291}
    return {"n_cases": n, "n_positive": positive, "metrics": {"auroc": auroc}}


def test_a_small_level_is_not_sent_and_the_review_says_so() -> None:
    document = ResultDocument.model_validate(
        {
            "n_cases": 103,
            "n_positive": 36,
            "metrics": {},
            "subgroups": {
                "age_band": {"<50": _level(3, 1), "50-69": _level(40, 15), "70+": _level(60, 20)}
            },
        }
    )
    sent, withheld = suppress_subgroups(document, 5)
    payload = sent.model_dump_json(exclude_none=True)
    assert '"<50"' not in payload and '"50-69"' not in payload and '"70+"' in payload
    screen = _Screen()
    print_result_document(screen, sent, "result", withheld)  # type: ignore[arg-type]
    lines = screen.err.export_text().splitlines()
    assert lines[-3:] == [
        "Withheld from the evaluator's results as small cells: kept on this machine, never sent:",
        "  - subgroups.age_band.<50: 3 cases, fewer than the minimum cell size 5",
        "  - subgroups.age_band.50-69: the site's total less the levels sent would leave 3 "
        "cases, fewer than 5",
    ]
    shown = "\n".join(lines)
    assert "auroc, age_band=70+ (60 cases)" in shown and "<50 (" not in shown
