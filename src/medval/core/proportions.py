"""Which whole counts a number may reveal: as a count itself, or as a proportion c/d.

Pure arithmetic for :mod:`medval.core.small_cells`; imports only the standard library.

A value ``v`` between 0 and 1 *pins* a count ``c`` of a known count ``d`` when it is
``c/d`` exactly (within floating-point noise), or when it is ``c/d`` rounded to the
decimals it is written with (or to more), and no other whole ``c`` rounds to it: a
sensitivity of ``0.3333`` over 3 positive cases pins 1; ``0.05`` over 1,000 cases pins
only 50 (exactly 50/1000; rounded to two decimals, anything from 45 to 55 gives it).
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import lru_cache

# Floating-point noise: c/d computed two ways differs by far less than this.
EXACT = 1e-9
# A float's shortest form has at most 17 significant digits; rounding finer is noise.
FINEST_DECIMALS = 17


def is_count_like(value: object) -> bool:
    """A number written whole (``3``, an int; not a yes/no), zero or more.

    ``3.0`` is read as a measure (a distance of 3.0 mm, a ratio), not a count: nothing
    else tells a count from a measure once a cube has written it.
    """
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@lru_cache(maxsize=4096)  # asked once per known count: a document has a few hundred
def decimals(value: float) -> int:
    """How many decimals ``value``'s shortest written form has (``0.3333`` has 4)."""
    exponent = Decimal(repr(float(value))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else FINEST_DECIMALS


def pinned_counts(value: float, total: int, rounded: bool = True) -> set[int]:
    """The whole counts ``c`` (0 to ``total``) that ``value`` pins as ``c/total``
    (exactly only, without ``rounded``)."""
    if total <= 0 or not 0 <= value <= 1:
        return set()
    found: set[int] = set()
    nearest = round(value * total)
    if abs(value - nearest / total) <= EXACT:
        found.add(nearest)
    if not rounded:
        return found
    # Rounded to r decimals for r from what is shown: the interval only narrows as r
    # grows, so the first r that leaves one candidate (or none) settles it.
    for places in range(decimals(value), FINEST_DECIMALS + 1):
        half = 0.5 * 10.0**-places
        low = max(0, math.ceil((value - half) * total - EXACT))
        high = min(total, math.floor((value + half) * total + EXACT))
        if high <= low:
            if high == low:
                found.add(low)
            break
    return found
