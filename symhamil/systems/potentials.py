"""One way to turn "a potential" into values and gradients on arrays.

A potential reaches symhamil in several forms: a :class:`~symhamil.System`, a
trained network (anything with ``potential`` and ``gradient`` methods), a SymPy
expression in given symbols, or a plain function. :func:`as_potential` turns
each into a :class:`Potential` whose ``values`` map positions (K, d) to (K,) and
whose ``gradient`` maps (..., d) to (..., d); SINDy, the losses and the export's
error measurements use it instead of checking types themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .hamiltonian import Hamiltonian

__all__ = ["Potential", "as_potential"]


@dataclass(frozen=True)
class Potential:
    """Values and (where known) the gradient of a potential, as array functions.

    Attributes
    ----------
    values : callable, (..., d) -> (...), or None
    gradient : callable, (..., d) -> (..., d), or None
    source : str
        What it was made from, for error messages.
    """

    values: Callable[[np.ndarray], np.ndarray] | None = None
    gradient: Callable[[np.ndarray], np.ndarray] | None = None
    source: str = "function"

    def require_values(self) -> Callable[[np.ndarray], np.ndarray]:
        if self.values is None:
            raise TypeError(f"this {self.source} gives a gradient only, not potential values.")
        return self.values

    def require_gradient(self) -> Callable[[np.ndarray], np.ndarray]:
        if self.gradient is None:
            raise TypeError(
                f"this {self.source} gives values only, not a gradient; pass a System, a "
                "model, a SymPy expression, or Potential(gradient=...)."
            )
        return self.gradient


def _real(values, source: str) -> np.ndarray:
    """``values`` as float64; complex values are refused, not silently cut to their real part."""
    v = np.asarray(values)
    if np.iscomplexobj(v):
        if np.any(v.imag != 0):
            raise ValueError(
                f"the {source} gives complex values; a potential is real. Give its real "
                "part explicitly if that is what is meant."
            )
        v = v.real
    return np.asarray(v, dtype=float)


def _lambdified(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]) -> Potential:
    if expr.has(sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"the potential {expr} is not real and finite (it holds I, nan or oo).")
    extra = expr.free_symbols - set(symbols)
    if extra:
        raise ValueError(
            f"the potential {expr} uses {sorted(map(str, extra))}, which are not among the "
            f"variables {[str(s) for s in symbols]}; substitute their values first."
        )
    f = sp.lambdify(symbols, expr, "numpy")
    grads = [sp.lambdify(symbols, sp.diff(expr, s), "numpy") for s in symbols]

    def values(x):
        x = np.asarray(x, dtype=float)
        v = _real(f(*np.moveaxis(x, -1, 0)), "SymPy potential")
        return np.broadcast_to(v, x.shape[:-1])

    def gradient(x):
        x = np.asarray(x, dtype=float)
        comps = np.moveaxis(x, -1, 0)
        return np.stack(
            [np.broadcast_to(_real(g(*comps), "SymPy potential"), x.shape[:-1]) for g in grads],
            axis=-1,
        )

    return Potential(values, gradient, "SymPy expression")


def as_potential(target, symbols: Sequence[sp.Symbol] | None = None) -> Potential:
    """``target`` as a :class:`Potential`.

    Parameters
    ----------
    target : Potential, Hamiltonian, model, sympy.Expr or callable
        A declared system (:class:`~symhamil.systems.hamiltonian.Hamiltonian`:
        a System or a PairSystem; values and -force); anything with
        ``potential`` (and optionally ``gradient``) methods, such as a
        ``NeuralPotential``; a SymPy expression in ``symbols``; or a callable
        mapping positions (K, d) to values (K,).
    symbols : sequence of sympy.Symbol, optional
        The variables of a SymPy expression, in the order of the last axis.

    Returns
    -------
    Potential
    """
    if isinstance(target, Potential):
        return target
    if isinstance(target, Hamiltonian):  # a System or a PairSystem: values and -force
        return Potential(target.potential, lambda q: -target.force(q), type(target).__name__)
    if hasattr(target, "potential") and callable(target.potential):
        grad = getattr(target, "gradient", None)
        return Potential(target.potential, grad if callable(grad) else None, type(target).__name__)
    if isinstance(target, sp.Basic):
        if symbols is None:
            raise ValueError("a SymPy potential needs its symbols, in the order of the axes.")
        return _lambdified(sp.sympify(target), tuple(symbols))
    if callable(target):
        return Potential(lambda x: _real(target(x), "function"), None, "function")
    raise TypeError(
        f"a potential must be a System, a model, a SymPy expression or a callable; got "
        f"{type(target).__name__}."
    )
