"""Declaring symbols: the rules shared by separable systems and pair systems.

Names of coordinates and parameters, exact numbers for parameter values, the
momentum conjugate to a coordinate, and derivatives that simulation can use.
:mod:`.system` and :mod:`.pairs` both build on these; neither imports the
other's private helpers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import numpy as np
import sympy as sp

from ..base.parsing import check_name

__all__ = ["as_symbols", "check_params", "default_momentum", "exact", "smooth_derivative"]


def default_momentum(coord: sp.Symbol) -> sp.Symbol:
    """The momentum symbol conjugate to ``coord``.

    ``q`` -> ``p``, ``q1x`` -> ``p1x``, ``x`` -> ``p_x``.

    Examples
    --------
    >>> import sympy as sp
    >>> default_momentum(sp.Symbol("q2")), default_momentum(sp.Symbol("r"))
    (p2, p_r)
    """
    name = coord.name
    if name.startswith("q"):
        return sp.Symbol("p" + name[1:])
    return sp.Symbol("p_" + name)


def exact(value: float) -> sp.Expr:
    """``value`` as an Integer or a Rational with a small denominator when it is one
    exactly, else as a Float."""
    frac = Fraction(value).limit_denominator(1000)
    if float(frac) == value:
        return sp.Rational(frac.numerator, frac.denominator)
    return sp.Float(value)


def check_params(raw: Mapping) -> dict[sp.Symbol, float]:
    params: dict[sp.Symbol, float] = {}
    for k, v in dict(raw or {}).items():
        key = sp.Symbol(check_name(k, "parameter")) if isinstance(k, str) else k
        if not isinstance(key, sp.Symbol):
            raise TypeError(f"parameter names must be Symbols or names; got {k!r}.")
        try:
            val = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"parameter {key} must have a numeric value; got {v!r}.") from None
        if not np.isfinite(val):
            raise ValueError(f"parameter {key} must be finite; got {val}.")
        params[key] = val
    return params


def smooth_derivative(expr: sp.Expr, symbol: sp.Symbol, what: str) -> sp.Expr:
    """d expr / d symbol, refused unless it is a closed-form, continuous function.

    Simulation integrates the force -grad V: SymPy leaves the derivative of
    Abs, floor or re of a general symbol unevaluated, and that of sign or
    Heaviside (or of Abs of a real symbol) is a jump or a DiracDelta.
    """
    g = sp.diff(expr, symbol)
    if g.has(sp.Derivative, sp.Subs):
        raise ValueError(
            f"{what} has no closed-form derivative in {symbol} (SymPy leaves "
            f"{next(iter(g.atoms(sp.Derivative, sp.Subs)))} unevaluated, e.g. for Abs, sign, "
            "floor, re); write it with differentiable functions, e.g. sqrt(q**2 + eps**2) "
            "for Abs(q)."
        )
    if g.has(sp.DiracDelta, sp.sign, sp.Heaviside):
        raise ValueError(
            f"{what} has a force that jumps (its derivative in {symbol} holds sign, Heaviside "
            "or DiracDelta); simulation needs a continuous force: smooth it, e.g. "
            "sqrt(q**2 + eps**2) for Abs(q)."
        )
    return g


def as_symbols(items: Iterable, what: str) -> tuple[sp.Symbol, ...]:
    out = tuple(sp.Symbol(check_name(s, what)) if isinstance(s, str) else s for s in items)
    for s in out:
        if not isinstance(s, sp.Symbol):
            raise TypeError(
                f"{what} must be SymPy Symbols (or names); got {s!r} of type {type(s).__name__}."
            )
        # Names reach generated code and LaTeX reports: plain names only.
        check_name(s.name, what)
    if len(set(out)) != len(out):
        raise ValueError(f"{what} contain a repeated symbol: {out}.")
    return out
