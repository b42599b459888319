"""Candidate libraries: frozen tuples of SymPy terms, their values and gradients.

A :class:`Library` evaluates to a matrix Theta (K points x J terms) by lambdify,
and its terms' gradients (taken for real variables) to (K, d, J).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import sympy as sp
from sympy.core.function import AppliedUndef

from ..base.parsing import as_expr
from ..data.trajectories import Trajectories

__all__ = ["MAX_TERMS", "NEAR_COLLINEAR", "Library", "LibraryWarning"]

#: A library matrix with a condition number above this is reported as nearly
#: collinear. Measured: polynomials to degree 6 on T1's data 595, on the paper's
#: SINDy grids up to 1,400 (plain monomials, which SINDy separates well); the
#: pendulum library {1, cos q, sin q, q, ..., q^4} on |q| <= 1.5: 8,000, where
#: the residual rule kept all seven terms.
NEAR_COLLINEAR = 5e3


#: The most terms a library may hold.
MAX_TERMS = 2_000


class LibraryWarning(UserWarning):
    """The library matrix is rank deficient or badly conditioned at the sample points."""


def _symbols(symbols) -> tuple[sp.Symbol, ...]:
    if isinstance(symbols, sp.Symbol):
        return (symbols,)
    return tuple(symbols)


@dataclass(frozen=True)
class Library:
    """Candidate functions xi_j(x) for sparse regression.

    Parameters
    ----------
    terms : sequence of sympy.Expr
        The candidate functions; duplicates are removed, order kept.
    symbols : sequence of sympy.Symbol
        The variables x (length d) the terms are functions of.

    Examples
    --------
    >>> import sympy as sp
    >>> q = sp.Symbol("q")
    >>> Library.polynomial((q,), degree=3).terms
    (1, q, q**2, q**3)
    """

    terms: tuple[sp.Expr, ...]
    symbols: tuple[sp.Symbol, ...]

    def __post_init__(self) -> None:
        symbols = _symbols(self.symbols)
        terms = tuple(dict.fromkeys(as_expr(t, symbols, "library term") for t in self.terms))
        for t in terms:
            if t.has(sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo):
                raise ValueError(f"library term {t} is not real and finite; drop it.")
            undefined = t.atoms(AppliedUndef)
            if undefined:
                raise ValueError(
                    f"library term {t} uses undefined function(s) "
                    f"{', '.join(sorted(map(str, undefined)))}; give closed-form terms."
                )
        if not terms:
            raise ValueError("the library is empty; give at least one term.")
        if len(terms) > MAX_TERMS:
            raise ValueError(
                f"the library has {len(terms):,} terms; at most {MAX_TERMS:,} are fitted (a "
                "regression on more columns than that is not a sparse model of anything)."
            )
        extra = set().union(*(t.free_symbols for t in terms)) - set(symbols)
        if extra:
            raise ValueError(
                f"library terms use symbols {sorted(map(str, extra))} that are not "
                f"among the library's symbols {tuple(map(str, symbols))}."
            )
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "symbols", symbols)
        self._derivatives  # noqa: B018 - refuses terms without a closed-form gradient, now

    @cached_property
    def _derivatives(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """d xi_j / d x_k as SymPy expressions, [k][j], taken for real x.

        For real x, Abs(x) has the derivative sign(x) (a subgradient, 0 at 0), so
        Coulomb-like terms such as |p| are allowed; terms whose derivative SymPy
        cannot write in closed form (floor, ceiling, re) or that is a
        distribution (sign, Heaviside: DiracDelta) are refused.
        """
        real = {s: sp.Dummy(s.name, real=True) for s in self.symbols}
        back = {v: k for k, v in real.items()}
        out = []
        for s in self.symbols:
            row = []
            for t in self.terms:
                g = sp.diff(t.xreplace(real), real[s]).xreplace(back)
                if g.has(sp.Derivative, sp.DiracDelta, sp.Subs):
                    raise ValueError(
                        f"library term {t} has no closed-form derivative in {s} (e.g. floor, "
                        "ceiling, sign, Heaviside or re); force-SINDy fits gradients, so "
                        "write it with differentiable functions (Abs is allowed: its "
                        "derivative is sign)."
                    )
                row.append(g)
            out.append(tuple(row))
        return tuple(out)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def polynomial(cls, symbols, degree: int, constant: bool = True) -> Library:
        """All monomials in ``symbols`` of total degree 1..degree (and 1)."""
        symbols = _symbols(symbols)
        terms = [sp.S.One] if constant else []
        for k in range(1, degree + 1):
            for combo in itertools.combinations_with_replacement(symbols, k):
                terms.append(sp.Mul(*combo))
        return cls(tuple(terms), symbols)

    @classmethod
    def radial(cls, terms, coords) -> Library:
        """Terms of the radius r = |q| of 2-D or 3-D positions, as a library in ``coords``.

        ``terms`` are SymPy expressions (or strings) in the symbol ``r``; each is
        written in ``coords`` with r = sqrt(sum of squares). Fits on such a
        library print in r (:meth:`SparseFit.rounded`), and force-SINDy fits
        every trajectory together whatever its angular momentum.

        Examples
        --------
        >>> import sympy as sp
        >>> x, y, z = sp.symbols("x y z")
        >>> Library.radial(["1/r", "r**2"], (x, y, z)).terms
        (1/sqrt(x**2 + y**2 + z**2), x**2 + y**2 + z**2)
        """
        coords = _symbols(coords)
        if len(coords) < 2:
            raise ValueError(
                f"a radial library needs 2 or more coordinates; got {len(coords)}. In one "
                "coordinate, write the terms in it directly."
            )
        r = sp.Symbol("r", positive=True)
        radius = sp.sqrt(sp.Add(*(c**2 for c in coords)))
        out = []
        for t in terms:
            expr = as_expr(t, (r,), "radial library term")
            other = sorted(s.name for s in expr.free_symbols if s.name != "r")
            if other:
                raise ValueError(
                    f"radial library term {expr} uses {', '.join(other)}; write it in r only."
                )
            out.append(expr.subs({s: radius for s in expr.free_symbols}))
        return cls(tuple(out), coords)

    @classmethod
    def inverse_powers(cls, symbol: sp.Symbol, k: int, constant: bool = True) -> Library:
        """1 (optional), symbol^-1, ..., symbol^-k."""
        terms = ([sp.S.One] if constant else []) + [symbol ** (-j) for j in range(1, k + 1)]
        return cls(tuple(terms), (symbol,))

    @classmethod
    def shifted_inverse_powers(
        cls, symbol: sp.Symbol, a, k: int, constant: bool = False
    ) -> Library:
        """(a - symbol)^-1, ..., (a - symbol)^-k (and 1 if asked)."""
        a = as_expr(a, what="shift")
        terms = ([sp.S.One] if constant else []) + [(a - symbol) ** (-j) for j in range(1, k + 1)]
        return cls(tuple(terms), (symbol,))

    def __repr__(self) -> str:
        terms = ", ".join(map(str, self.terms))
        if len(terms) > 80:
            terms = terms[:77] + "..."
        return f"Library({len(self.terms)} terms: {terms})"

    def _repr_latex_(self) -> str:
        return "$" + sp.latex(list(self.terms)) + "$"

    def __or__(self, other: Library) -> Library:
        """The union of two libraries (terms of both, duplicates once)."""
        symbols = tuple(dict.fromkeys(self.symbols + other.symbols))
        return Library(self.terms + other.terms, symbols)

    union = __or__

    # ------------------------------------------------------------------ numeric
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(str(t) for t in self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @cached_property
    def _value_fns(self):
        return [sp.lambdify(self.symbols, t, "numpy") for t in self.terms]

    @cached_property
    def _grad_fns(self):
        return [[sp.lambdify(self.symbols, g, "numpy") for g in row] for row in self._derivatives]

    def _points(self, points) -> np.ndarray:
        if isinstance(points, Trajectories):  # their positions, without padding
            points = points.positions()
        x = np.asarray(points, dtype=float)
        if x.ndim == 1 and len(self.symbols) == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != len(self.symbols):
            raise ValueError(f"points must have shape (K, {len(self.symbols)}); got {x.shape}.")
        if x.shape[0] == 0:
            raise ValueError("there are no points to evaluate the library at; give K >= 1.")
        return x

    def _fill(self, fns, x: np.ndarray) -> np.ndarray:
        out = np.empty((x.shape[0], len(fns)))
        with np.errstate(all="ignore"):
            for j, f in enumerate(fns):
                out[:, j] = f(*x.T)
        return out

    def evaluate(self, points) -> np.ndarray:
        """Theta: every term at every point, shape (K, J); non-finite values are refused.

        Parameters
        ----------
        points : array_like, shape (K, d)
        """
        x = self._points(points)
        theta = self._fill(self._value_fns, x)
        bad = ~np.isfinite(theta)
        if bad.any():
            k, j = np.argwhere(bad)[0]
            raise ValueError(
                f"library term {self.terms[j]} is not finite at {int(bad[:, j].sum())}"
                f" of the points (first at {x[k].tolist()}); move the points or "
                "drop the term."
            )
        return theta

    def gradient(self, points) -> np.ndarray:
        """d xi_j / d x_k at every point, shape (K, d, J)."""
        x = self._points(points)
        out = np.stack([self._fill(fns, x) for fns in self._grad_fns], axis=1)
        bad = ~np.isfinite(out)
        if bad.any():
            k, _, j = np.argwhere(bad)[0]
            raise ValueError(
                f"the gradient of library term {self.terms[j]} is not finite at "
                f"{x[k].tolist()}; move the points or drop the term."
            )
        return out

    def check(self, theta: np.ndarray, rtol: float = 1e-10) -> tuple[float, tuple[sp.Expr, ...]]:
        """Condition number of Theta and the terms that depend linearly on others.

        Warns (:class:`LibraryWarning`) naming the dependent terms. QR with column
        pivoting orders the columns by how much each adds; those whose diagonal
        falls below ``rtol`` of the largest are dependent.
        """
        norms = np.linalg.norm(theta, axis=0)
        zero = norms == 0
        scaled = theta / np.where(zero, 1, norms)
        _, r, perm = scipy.linalg.qr(scaled, mode="economic", pivoting=True)
        diag = np.abs(np.diag(r))
        dependent = [
            self.terms[perm[i]]
            for i in range(diag.size)
            if diag[i] <= rtol * diag[0] or zero[perm[i]]
        ]
        _, s, vt = np.linalg.svd(scaled, full_matrices=False)
        cond = float(s[0] / s[-1]) if s[-1] > 0 else float("inf")
        if not dependent and cond > NEAR_COLLINEAR:
            # The terms that nearly cancel: the large entries of the weakest
            # direction (e.g. cos q ~ 1 - q^2/2 + q^4/24 on |q| <= 1.5).
            v = np.abs(vt[-1])
            near = [self.terms[j] for j in np.argsort(-v) if v[j] > 0.1 * v.max()]
            warnings.warn(
                f"the library is nearly collinear at these points (condition number "
                f"{cond:.3g}): {', '.join(map(str, near))} nearly combine to zero, so "
                "the data can hardly tell them apart and a threshold may keep the wrong "
                "ones. Drop some of them, or use data that reach further.",
                LibraryWarning,
                stacklevel=2,
            )
        if dependent:
            warnings.warn(
                f"the library matrix is rank deficient at these points (condition "
                f"number {cond:.3g}): {', '.join(map(str, dependent))} depend(s) "
                "linearly on the other terms; drop them or use other points.",
                LibraryWarning,
                stacklevel=2,
            )
        return cond, tuple(dependent)
