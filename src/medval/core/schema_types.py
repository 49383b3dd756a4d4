"""The building blocks every API schema module shares: the base class and the basic
constrained types (names, hashes, ids, free text).

``schemas`` (benchmarks, datasets, results...) and ``training_schemas`` (training
experiments) both build on these, so the two families read and validate alike. Imports
only pydantic, ``core.documents`` and ``core.errors``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from medval.core.documents import no_nul
from medval.core.errors import InvalidInput


class Schema(BaseModel):
    """Every request and response: unknown fields are refused, rows are read by name."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# One safe path component too (no "/", never "." or ".."): the client names folders by it.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def check_name(value: str, what: str) -> str:
    """``value`` when it is a valid ``Name``, else one line saying what a name may hold."""
    if re.fullmatch(NAME_PATTERN, value) is None:
        raise InvalidInput(
            f"{what} {value[:100]!r} is not allowed: use 1 to 80 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# An id as every store can hold it: PostgreSQL's INTEGER columns end at 2**31 - 1 (SQLite's
# at 2**63 - 1), and a larger one would reach the database driver as an overflow (a 500).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Free text: no NUL (PostgreSQL refuses it in text, so it would be a 500, not an answer).
Text = Annotated[str, StringConstraints(max_length=4000), AfterValidator(no_nul)]
