"""Argument checks shared by the public functions: one rule, one message."""

from __future__ import annotations

import numpy as np

__all__ = ["whole_number"]


def whole_number(value, what: str, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in [lo, hi], else a ValueError naming ``what`` and the range.

    Bools are refused (``True`` is not a count); floats that are whole (``1e3``)
    are accepted, NaN, infinities and text are not.

    >>> whole_number(3.0, "steps", 1)
    3
    """
    try:
        ok = (
            not isinstance(value, bool)
            and isinstance(value, int | float | np.integer | np.floating)
            and int(value) == value
        )
    except (OverflowError, ValueError):
        ok = False
    ok = ok and value >= lo and (hi is None or value <= hi)
    if not ok:
        span = f">= {lo}" if hi is None else f"from {lo} to {hi:,}"
        raise ValueError(f"{what} must be a whole number {span}; got {value!r}.")
    return int(value)
