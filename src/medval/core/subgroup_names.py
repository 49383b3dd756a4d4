"""The names of subgroup variables and their levels, and how many a benchmark may have:
shared by what a benchmark declares (:mod:`medval.core.declarations`) and what an
evaluator reports (:mod:`medval.core.documents`). Imports pydantic only.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

MAX_SUBGROUP_VARIABLES = 16
MAX_SUBGROUP_LEVELS = 32

VariableName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# A level as the evaluator reports it: "<50", "50-69", "grade_3", "female".
LevelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9<>=+._-]{1,40}$")]
