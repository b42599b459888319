"""Argument checks shared by the public functions: one rule, one message."""

from __future__ import annotations

import numpy as np

__all__ = ["positive_number", "whole_number"]


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


def positive_number(value, what: str, allow_none: bool = False) -> float | None:
    """``value`` as a finite float > 0 (or None where allowed), else a ValueError.

    >>> positive_number(2, "h")
    2.0
    """
    if value is None and allow_none:
        return None
    try:
        ok = not isinstance(value, bool) and bool(np.isfinite(float(value))) and value > 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        none = " (or None)" if allow_none else ""
        raise ValueError(f"{what} must be a finite number > 0{none}; got {value!r}.")
    return float(value)
