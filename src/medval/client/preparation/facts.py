"""What a workflow run records about itself in the dataset's state, beside each case's
state: the steps as they were, where each review looks, what the prepared data leaves out,
and what a review accepted; read back by ``medval dataset status``, the reviews and the
report without the cube."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from medval.core.hashing import tree_hash
from medval.core.preparation_workflow import Workflow

if TYPE_CHECKING:
    from medval.client.preparation.workflow_run import WorkflowOutcome


def review_fact(step: str) -> str:
    """The fact naming the step whose output a review step looks at."""
    return f"review:{step}"


def steps_fact(workflow: Workflow) -> str:
    """The steps as the last run had them (name, how each runs, a review's files), read by
    ``medval dataset status`` and the review list without the cube."""
    return json.dumps(
        [{"name": s.name, "runs": s.runs.value, "files": list(s.files)} for s in workflow.steps]
    )


def left_out_fact(outcome: WorkflowOutcome) -> str:
    """The cases the prepared data leaves out, by name (read before registration, kept
    here: the statistics sent carry their counts only)."""
    set_aside = sorted({aside.case for aside in outcome.set_aside})
    return json.dumps({"excluded": list(outcome.excluded), "set_aside": set_aside})


def review_hash(produced: Path) -> str:
    """What a review of a case accepted: the output it looked at."""
    return tree_hash(produced)
