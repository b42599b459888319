"""A trained network as an exact SymPy expression, and its series and Pade forms.

Nothing here imports TensorFlow: the network is read through its weights and
configuration (``get_weights()`` and ``arch_``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..base.layers import FEATURES, activation, elu
from ..systems.potentials import as_potential

__all__ = ["Approximation", "elu", "lambdify_deep", "pade", "taylor", "to_sympy"]


def _features(arch, xs: Sequence[sp.Symbol], custom) -> list[sp.Expr]:
    if arch.features in FEATURES:
        return list(FEATURES[arch.features].sympy(list(xs)))
    if custom is None:
        raise ValueError(
            "this network has a custom feature function; pass its SymPy form as "
            "to_sympy(model, symbols, features=lambda xs: [...])."
        )
    feats = list(custom(xs))
    if len(feats) != arch.input_width:
        raise ValueError(
            f"the SymPy features give {len(feats)} expression(s), but the network's feature "
            f"layer has width {arch.input_width}; give one expression per feature."
        )
    return feats


def to_sympy(model, symbols: Sequence[sp.Symbol], features: Callable | None = None) -> sp.Expr:
    """The exact SymPy expression of a trained NeuralPotential.

    A composition of affine maps (the weights as full-precision Floats) and
    activations: tanh, softplus as log(1 + exp(x)), elu as a Piecewise; the
    input feature layer (q1 - q2; |q1 - q2| as a square root of a sum of
    squares), the exponential output and the network's scaling to the data's
    units (``model.scaling_``: V = output * net((q - shift) / scale), with the
    powers of ten as exact rationals) are included.

    Parameters
    ----------
    model : NeuralPotential
    symbols : sequence of sympy.Symbol, length d
        The coordinates to write V in.
    features : callable, optional
        For a network with a custom feature function: its SymPy form, mapping
        the list of symbols to a list of feature expressions.

    Returns
    -------
    sympy.Expr
    """
    symbols = tuple(symbols)
    arch = model.arch_
    if len(symbols) != arch.dim:
        raise ValueError(
            f"the network takes d = {arch.dim} coordinates; got {len(symbols)} symbols."
        )
    act = activation(arch.activation).sympy
    weights = model.get_weights()
    scaling = getattr(model, "scaling_", None)
    inputs: Sequence[sp.Expr] = symbols
    if scaling is not None and not scaling.is_identity:
        inputs = [
            (x - _exact(c)) / _exact(scaling.scale)
            for x, c in zip(symbols, scaling.shift, strict=True)
        ]
    # Float(x, 17) represents a float64 exactly enough to round-trip it.
    h = _features(arch, inputs, features)
    n_layers = len(weights) // 2
    for k in range(n_layers):
        W, b = weights[2 * k], weights[2 * k + 1]
        pre = [
            sp.Add(*(sp.Float(W[i, j], 17) * h[i] for i in range(W.shape[0])), sp.Float(b[j], 17))
            for j in range(W.shape[1])
        ]
        h = pre if k == n_layers - 1 else [act(z) for z in pre]
    out = sp.exp(h[0], evaluate=False) if arch.output == "exponential" else h[0]
    if scaling is not None and scaling.output != 1.0:
        out = sp.Mul(_exact(scaling.output), out, evaluate=False)
    return out


def _exact(v: float) -> sp.Expr:
    """A scaling's number as SymPy reads its shortest decimal: 100.0 -> 100, 1e-4 -> 1/10000."""
    return sp.Rational(repr(float(v)))


@dataclass(frozen=True)
class Approximation:
    """A series or Pade form of a one-variable potential, with its error.

    Attributes
    ----------
    expression : sympy.Expr
    max_error : float
        max |approximation - target| over ``grid``.
    grid : ndarray, shape (K,)
        Read-only.
    """

    expression: sp.Expr
    max_error: float
    grid: np.ndarray

    def __post_init__(self) -> None:
        grid = np.array(self.grid, dtype=float)
        grid.setflags(write=False)
        object.__setattr__(self, "grid", grid)


def _taylor_coefficients(
    expr: sp.Expr, symbol: sp.Symbol, x0: float, order: int, dps: int
) -> list:
    f = sp.lambdify(symbol, expr, modules="mpmath")
    with mpmath.workdps(dps):
        return mpmath.taylor(f, mpmath.mpf(x0), order)


def _measured(approx: sp.Expr, expr: sp.Expr, symbol, x0, interval, target) -> Approximation:
    """``approx`` with its max error against ``target`` (``expr`` by default) on 200 points."""
    lo, hi = interval if interval is not None else (x0 - 1, x0 + 1)
    grid = np.linspace(lo, hi, 200)
    values = as_potential(expr if target is None else target, (symbol,)).require_values()
    values = np.asarray(values(grid[:, None]), dtype=float)
    got = np.asarray(sp.lambdify(symbol, approx, "numpy")(grid), dtype=float)
    return Approximation(approx, float(np.max(np.abs(got - values))), grid)


def taylor(
    expr: sp.Expr,
    symbol: sp.Symbol,
    x0: float,
    order: int,
    interval: tuple[float, float] | None = None,
    target=None,
    dps: int = 50,
) -> Approximation:
    """Taylor polynomial of ``expr`` about ``x0`` up to ``(symbol - x0)**order``.

    Coefficients by mpmath at ``dps`` digits (exact to float64 for the networks'
    analytic activations). ``target`` (a callable (K, 1) -> (K,), e.g. the
    network, or an expression; ``expr`` by default) is what the error is
    measured against, on 200 points of ``interval`` (x0 +- 1 by default).
    """
    c = _taylor_coefficients(expr, symbol, x0, order, dps)
    poly = sp.Add(*(sp.Float(ci, 17) * (symbol - x0) ** k for k, ci in enumerate(c)))
    return _measured(poly, expr, symbol, x0, interval, target)


def pade(
    expr: sp.Expr,
    symbol: sp.Symbol,
    x0: float,
    m: int,
    n: int,
    interval: tuple[float, float] | None = None,
    target=None,
    dps: int = 50,
) -> Approximation:
    """Pade approximant [m/n] of ``expr`` about ``x0``: P_m(x - x0) / Q_n(x - x0).

    From the Taylor coefficients of order m + n (mpmath.pade). The error is as
    in :func:`taylor`.
    """
    c = _taylor_coefficients(expr, symbol, x0, m + n, dps)
    with mpmath.workdps(dps):
        p, q = mpmath.pade(c, m, n)
    u = symbol - x0
    num = sp.Add(*(sp.Float(a, 17) * u**k for k, a in enumerate(p)))
    den = sp.Add(*(sp.Float(b, 17) * u**k for k, b in enumerate(q)))
    return _measured(num / den, expr, symbol, x0, interval, target)


def lambdify_deep(symbols: Sequence[sp.Symbol], expr: sp.Expr):
    """A NumPy function of a deep exported network, fast to build.

    ``sympy.lambdify`` walks an expression as a tree; an exported network of
    8 hidden layers is a small DAG but an enormous tree, and lambdify takes
    minutes on it. Here common subexpressions are found first (unordered, which
    is linear in the DAG) and each one is printed alone.

    Returns
    -------
    callable
        f(*coords) with each coordinate an array of one shape.
    """
    from sympy.printing.numpy import NumPyPrinter  # SymPy's printers load on first use

    symbols = tuple(symbols)
    # Generated code never contains a name from outside: the arguments become
    # _x0, _x1, ... (as sympy.lambdify's dummify does) and the subexpressions
    # _h0, _h1, ...; a symbol's name, whatever it is, is never printed.
    args = [sp.Symbol(f"_x{i}") for i in range(len(symbols))]
    rename = dict(zip(symbols, args, strict=True))
    # cse first: on the exported network's DAG it is linear, while any tree walk
    # (xreplace, subs) of the whole expression is exponential in depth.
    names = sp.numbered_symbols("_h", exclude=set(symbols))
    reps, (reduced,) = sp.cse(expr, symbols=names, order="none")
    reps = [(h, e.xreplace(rename)) for h, e in reps]
    reduced = reduced.xreplace(rename)
    known = set(args) | {h for h, _ in reps}
    free = set().union(reduced.free_symbols, *(e.free_symbols for _, e in reps)) - known
    if free:
        raise ValueError(
            f"the expression uses {sorted(map(str, free))}, which are not among the symbols given."
        )
    printer = NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    lines = [f"def _network({', '.join(a.name for a in args)}):"]
    lines += [f"    {h.name} = {printer.doprint(e)}" for h, e in reps]
    lines.append(f"    return {printer.doprint(reduced)}")
    namespace = {"numpy": np}
    exec("\n".join(lines), namespace)
    return namespace["_network"]
