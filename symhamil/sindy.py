"""Candidate libraries of SymPy expressions and sparse regression (STLSQ).

A :class:`Library` is a frozen tuple of SymPy terms in given symbols; it
evaluates to a matrix Theta (K points x J terms) by lambdify. :func:`stlsq` is
the paper's iteratively thresholded least squares.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import numpy as np
import scipy.linalg
import sympy as sp
from sympy.core.function import AppliedUndef

from ._checks import whole_number
from ._io import read_json_as, write_json
from .losses import check_loss, pairs
from .parsing import as_expr, check_name, parse_formula
from .potentials import as_potential
from .trajectories import Trajectories

__all__ = ["Library", "LibraryWarning", "stlsq"]


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


#: A library matrix with a condition number above this is reported as nearly
#: collinear. Measured: polynomials to degree 6 on T1's data 595, on the paper's
#: SINDy grids up to 1,400 (plain monomials, which SINDy separates well); the
#: pendulum library {1, cos q, sin q, q, ..., q^4} on |q| <= 1.5: 8,000, where
#: the residual rule kept all seven terms.
NEAR_COLLINEAR = 5e3


def _lstsq(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with the columns scaled to unit norm first.

    Library columns can differ by many orders of magnitude (r^-12 near a close
    encounter next to r); unscaled, LAPACK's cut-off on small singular values,
    relative to the largest, would drop the small columns entirely.
    """
    norms = np.linalg.norm(theta, axis=0)
    norms[norms == 0] = 1.0
    return np.linalg.lstsq(theta / norms, y, rcond=None)[0] / norms


def stlsq(
    theta: np.ndarray,
    y: np.ndarray,
    threshold: float,
    keep: Sequence[int] = (),
    max_iter: int = 100,
) -> np.ndarray:
    """Sequentially thresholded least squares (the paper's SINDy algorithm).

    (i) ordinary least squares; (ii) every coefficient with |beta| < threshold is
    set to zero and frozen there; refit on the remaining columns; repeat until
    the support stops changing.

    Parameters
    ----------
    theta : ndarray, shape (K, J)
    y : ndarray, shape (K,)
    threshold : float
    keep : sequence of int
        Columns never thresholded (the constant of a potential, which is
        arbitrary and must not be forced to zero).

    Returns
    -------
    ndarray, shape (J,)
    """
    J = theta.shape[1]
    support = np.ones(J, dtype=bool)
    beta = np.zeros(J)
    keep_mask = np.zeros(J, dtype=bool)
    keep_mask[list(keep)] = True
    for _ in range(max_iter):
        beta = np.zeros(J)
        if support.any():
            beta[support] = _lstsq(theta[:, support], y)
        new = support & ((np.abs(beta) >= threshold) | keep_mask)
        if np.array_equal(new, support):
            break
        support = new
    beta[~support] = 0.0
    return beta


@dataclass(frozen=True)
class PathStep:
    """One threshold of the protocol: lambda, the terms kept, the relative residual,
    and (with ``select="bic"``) the model's Bayesian information criterion."""

    threshold: float
    support: tuple[sp.Expr, ...]
    residual: float
    criterion: float | None = None


@dataclass(frozen=True, eq=False)
class SparseFit:
    """A sparse model sum_j beta_j xi_j.

    Attributes
    ----------
    coefficients : Mapping {sympy.Expr: float}
        The nonzero coefficients, by library term (read-only).
    expression : sympy.Expr
        sum_j beta_j xi_j.
    threshold : float
        The lambda used.
    residual : float
        ||y - Theta beta|| / ||y - mean(y)||, the relative residual.
    path : tuple of PathStep
        Every lambda tried by the protocol, largest first.
    library : Library
    stderr : Mapping {sympy.Expr: float}, optional
        Standard error of each coefficient (set when the coefficients were
        refined by shooting, :func:`symhamil.rollout.refine`).
    inclusion : Mapping {sympy.Expr: float}, optional
        Each library term's inclusion probability over bootstrap resamples
        (:func:`symhamil.bootstrap`).
    intervals : Mapping {sympy.Expr: (float, float)}, optional
        A confidence interval for each coefficient (bootstrap percentiles, or
        +-1.96 stderr).
    method : str
        How the model was found (the observations, the selection rule, and
        whether it was refined).
    sources : Mapping {str: str}, optional
        Which estimator gave each of ``coefficients``, ``stderr``, ``intervals``
        and ``inclusion``. They can differ: with shooting and a bootstrap, the
        coefficients and standard errors come from shooting and the intervals
        from the bootstrap of the sparse regression, and ``sources`` says so.
    """

    coefficients: Mapping
    expression: sp.Expr
    threshold: float
    residual: float
    path: tuple[PathStep, ...]
    library: Library
    stderr: Mapping | None = None
    inclusion: Mapping | None = None
    intervals: Mapping | None = None
    method: str = ""
    sources: Mapping | None = None

    def __post_init__(self) -> None:
        # Read-only views: a fit is a value, not a dict to edit.
        for name in ("coefficients", "stderr", "inclusion", "intervals", "sources"):
            v = getattr(self, name)
            if v is not None:
                if name == "intervals":
                    v = {t: (float(a), float(b)) for t, (a, b) in dict(v).items()}
                object.__setattr__(self, name, MappingProxyType(dict(v)))
        object.__setattr__(self, "path", tuple(self.path))

    def replace(self, **changes) -> SparseFit:
        """A copy with some fields changed."""
        from dataclasses import replace

        return replace(self, **changes)

    def latex(self, digits: int = 6) -> str:
        """The expression in LaTeX, coefficients to ``digits`` significant digits."""
        return sp.latex(sp.Add(*(sp.Float(c, digits) * t for t, c in self.coefficients.items())))

    def __repr__(self) -> str:
        expr = sp.sstr(sp.Add(*(sp.Float(c, 6) * t for t, c in self.coefficients.items())))
        if len(expr) > 80:
            expr = expr[:77] + "..."
        return (
            f"SparseFit({expr}; {len(self.coefficients)} of {len(self.library)} terms, "
            f"threshold {self.threshold:.3g}, residual {self.residual:.3g})"
        )

    def _repr_latex_(self) -> str:
        return f"$\\hat V = {self.latex()}$"

    def to_json(self) -> dict:
        """A JSON-ready dict; terms as SymPy strings, read back by :meth:`from_json`."""
        return {
            "symbols": [s.name for s in self.library.symbols],
            "library": [sp.sstr(t) for t in self.library.terms],
            "coefficients": {sp.sstr(t): c for t, c in self.coefficients.items()},
            "threshold": self.threshold,
            "residual": self.residual,
            "path": [
                {"threshold": p.threshold, "terms": [sp.sstr(t) for t in p.support],
                 "residual": p.residual, "criterion": p.criterion}
                for p in self.path
            ],
            "stderr": _terms_json(self.stderr),
            "inclusion": _terms_json(self.inclusion),
            "intervals": _terms_json(self.intervals, list),
            "method": self.method,
            "sources": None if self.sources is None else dict(self.sources),
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict) -> SparseFit:
        """Read :meth:`to_json`'s form; terms are parsed with only the library's symbols
        known (no Python evaluated)."""
        symbols = tuple(sp.Symbol(check_name(n)) for n in d["symbols"])

        def term(text):
            return parse_formula(text, symbols, "term")

        library = Library(tuple(term(t) for t in d["library"]), symbols)
        coeffs = {term(t): float(c) for t, c in d["coefficients"].items()}
        outside = [t for t in coeffs if t not in library.terms]
        if outside:
            raise ValueError(f"the term {outside[0]} is not in the fit's library")
        bad = [t for t, c in coeffs.items() if not np.isfinite(c)]
        if bad:
            raise ValueError(f"the coefficient of {bad[0]} is {coeffs[bad[0]]}, not finite")
        expr = sp.Add(*(sp.Float(c, 17) * t for t, c in coeffs.items()))
        path = tuple(
            PathStep(
                float(p["threshold"]),
                tuple(term(t) for t in p["terms"]),
                float(p["residual"]),
                None if p.get("criterion") is None else float(p["criterion"]),
            )
            for p in d["path"]
        )

        def terms_of(key, value=float):
            got = d.get(key)
            if got is None:
                return None
            out = {term(t): value(v) for t, v in got.items()}
            if any(t not in library.terms for t in out):
                raise ValueError(f"its {key} name terms that are not in the fit's library")
            return out

        def interval(v):
            if len(v) != 2:
                raise ValueError(f"an interval is a pair of numbers; got {v!r}")
            return float(v[0]), float(v[1])

        return cls(
            coeffs,
            expr,
            float(d["threshold"]),
            float(d["residual"]),
            path,
            library,
            stderr=terms_of("stderr"),
            inclusion=terms_of("inclusion"),
            intervals=terms_of("intervals", interval),
            method=str(d.get("method", "")),
            sources=_sources_from_json(d.get("sources")),
        )

    def save(self, path) -> None:
        """Write :meth:`to_json` to ``path`` (atomically)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path) -> SparseFit:
        """Read a fit written by :meth:`save`."""
        return read_json_as(path, cls.from_json, "SparseFit")


def _sources_from_json(d) -> dict | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not all(
        k in SOURCE_FIELDS and isinstance(v, str) and len(v) <= 500 for k, v in d.items()
    ):
        raise ValueError(f"its sources must map {', '.join(SOURCE_FIELDS)} to short texts")
    return dict(d)


#: The parts of a fit whose estimator ``SparseFit.sources`` names.
SOURCE_FIELDS = ("coefficients", "stderr", "intervals", "inclusion")


def _terms_json(m, value=float):
    return None if m is None else {sp.sstr(t): value(v) for t, v in m.items()}


def _relative_residual(theta, y, beta) -> float:
    scale = np.linalg.norm(y - y.mean())
    return float(np.linalg.norm(y - theta @ beta) / (scale if scale > 0 else 1.0))


#: The paper's thresholds run from 1 downwards; 20 per decade down to 1e-8.
DEFAULT_THRESHOLDS = tuple(10.0 ** (-np.arange(0, 8 * 20 + 1) / 20))


#: How a model is chosen along the threshold path.
SELECTIONS = ("residual", "bic")


#: Residuals below this share of the target's norm are rounding, not evidence:
#: on exact data every model at that level fits equally, and the fewest terms win.
BIC_FLOOR = 1e-12


def _bic(theta, y, beta) -> float:
    """n log(RSS/n) + k log n: the Bayesian information criterion of a least-squares model."""
    n, k = len(y), int(np.count_nonzero(beta))
    rss = float(np.sum((y - theta @ beta) ** 2))
    floor = (BIC_FLOOR**2) * float(np.sum(y**2))
    return n * np.log(max(rss, floor, np.finfo(float).tiny) / n) + k * np.log(n)


def _select_bic(theta, y, library: Library, keep, thresholds):
    """Every distinct model of the whole path, and the one of least BIC.

    On noisy data the residual-ratio rule keeps dense models (noise dominates
    the residual); BIC charges log(n) per term, so a term must explain more than
    noise to stay.
    """
    path, best, last = [], None, None
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        if last is not None and np.array_equal(b != 0, last != 0):
            continue  # the same model as the previous threshold's
        last = b
        crit = _bic(theta, y, b) if np.any(b) else np.inf
        path.append(
            PathStep(
                float(lam_k),
                tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0),
                _relative_residual(theta, y, b),
                float(crit),
            )
        )
        if best is None or crit < best[0]:
            best = (crit, b, float(lam_k), path[-1].residual)
    _, beta, lam, res = best
    return beta, lam, res, tuple(path)


def _fit_path(
    theta, y, library: Library, keep, threshold, rtol, ratio, thresholds, select="residual"
) -> tuple[np.ndarray, float, float, tuple[PathStep, ...]]:
    if threshold is not None:
        beta = stlsq(theta, y, threshold, keep)
        res = _relative_residual(theta, y, beta)
        step = PathStep(
            float(threshold), tuple(np.array(library.terms, dtype=object)[beta != 0]), res
        )
        return beta, float(threshold), res, (step,)
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    if select == "bic":
        return _select_bic(theta, y, library, keep, thresholds)
    full = _lstsq(theta, y)
    tol = max(rtol, ratio * _relative_residual(theta, y, full))
    path = []
    beta, lam, res = full, 0.0, _relative_residual(theta, y, full)
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        r = _relative_residual(theta, y, b)
        path.append(
            PathStep(
                float(lam_k), tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0), r
            )
        )
        if r <= tol:
            beta, lam, res = b, float(lam_k), r
            break
    return beta, lam, res, tuple(path)


#: A chosen model whose relative residual is above this explains little of the target.
EXPLAINS_LITTLE = 0.5


def _result(beta, lam, res, path, library) -> SparseFit:
    coeffs = {t: float(c) for t, c in zip(library.terms, beta, strict=True) if c != 0}
    if coeffs and res > EXPLAINS_LITTLE:
        warnings.warn(
            f"the chosen model explains little of the target: its relative residual is "
            f"{res:.2f} (1 means no better than a constant). Check that the library contains "
            "the right kind of terms, and the points cover where the target varies.",
            LibraryWarning,
            stacklevel=3,
        )
    if not coeffs:
        warnings.warn(
            f"threshold {lam} removes every term of the library; the model is empty. "
            "Lower the threshold.",
            LibraryWarning,
            stacklevel=3,
        )
    expr = sp.Add(*(sp.Float(c, 17) * t for t, c in coeffs.items()))
    return SparseFit(coeffs, expr, lam, res, path, library)


def sindy(
    target,
    library: Library,
    points,
    threshold: float | None = None,
    rtol: float = 1e-10,
    ratio: float = 2.0,
    thresholds: Sequence[float] | None = None,
    *,
    data: Trajectories | None = None,
) -> SparseFit:
    """Sparse regression of a potential's values on a library (the paper's SINDy).

    Parameters
    ----------
    target : NeuralPotential, sympy.Expr or callable
        What to fit: anything with ``.potential(points)``, a SymPy expression in
        ``library.symbols``, or a callable mapping points (K, d) to values (K,).
    library : Library
    points : array_like, shape (K, d)
        Where the target and the library are evaluated (training points or a grid).
    threshold : float, optional
        A fixed lambda; by default the paper's protocol chooses it.
    rtol, ratio : float
        The protocol's stopping rule: lower lambda from 1 until the relative
        residual ||V - Theta beta|| / ||V - mean V|| is <= max(rtol,
        ratio * r_full), r_full being the relative residual of least squares on
        the whole library. The paper's absolute 1e-10 is reachable only by exact
        targets; a network's values stop at r_full, and a model that misses a
        true term sits far above it.
    thresholds : sequence of float, optional
        The lambdas tried, largest first; by default 20 per decade from 1 down
        to 1e-8 (``DEFAULT_THRESHOLDS``).
    data : Trajectories, optional
        The trajectories a network was trained on: the support is then chosen
        among the path's models by the BIC of a force regression on them, not by
        the residual rule (see ``_select_by_data``). For networks trained on
        measured, noisy data, and for pair potentials: with a library in one
        symbol r and many-body data, the forces are pair sums (the geometry of
        the :class:`~symhamil.neural.PairPotential` whose ``pair_potential`` is
        the target, or of the data).

    Returns
    -------
    SparseFit
    """
    if threshold is not None and not (
        isinstance(threshold, int | float) and np.isfinite(threshold) and threshold >= 0
    ):
        raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}.")
    x = library._points(points)
    y = np.asarray(as_potential(target, library.symbols).require_values()(x), dtype=float)
    if y.ndim == 0:
        y = np.broadcast_to(y, (x.shape[0],))
    if y.shape != (x.shape[0],) or not np.isfinite(y).all():
        raise ValueError(
            f"the target must give one finite value per point, shape "
            f"({x.shape[0]},); got shape {y.shape}"
            f"{'' if np.isfinite(y).all() else ' with non-finite values'}."
        )
    theta = library.evaluate(x)
    library.check(theta)
    keep = [j for j, t in enumerate(library.terms) if t == 1]
    if data is not None and threshold is None:
        return _select_by_data(theta, y, library, keep, thresholds, data, target)
    beta, lam, res, path = _fit_path(theta, y, library, keep, threshold, rtol, ratio, thresholds)
    return _result(beta, lam, res, path, library)


def _select_by_data(theta, y, library, keep, thresholds, data, target=None) -> SparseFit:
    """The network proposes, the data decide: every distinct support on the
    threshold path of the network's values (for pair potentials, and on the
    data's own path) is scored by the BIC of a force
    regression on the trajectories ``data`` restricted to it (with force-SINDy's
    plan for them), and the least wins. Its coefficients are fitted to the
    network's values as usual.

    A network's error is smooth and systematic, so its values cannot say which
    small terms are real (the residual rule keeps all seven pendulum terms on a
    nearly collinear library); the measured forces carry the likelihood.
    """
    from .planning import plan

    if not isinstance(data, Trajectories):
        raise TypeError(f"data must be symhamil.Trajectories; got {type(data).__name__}.")
    how = plan(data)
    varying = [j for j, t in enumerate(library.terms) if t.free_symbols]
    vlib = Library(tuple(library.terms[j] for j in varying), library.symbols)
    pair = _pair_forces(target, data, vlib)
    th_d, y_d, _ = force_equations(how.prepare(data), vlib, how.kind, 1, how.window, pair)
    if thresholds is None:
        # The data judge, so the path may start above 1: in units where terms
        # carry large coefficients (argon in eV and angstrom: 1e5 r^-12), the
        # spurious ones are larger than 1 too.
        top = float(np.max(np.abs(_lstsq(theta, y)), initial=1.0))
        k0 = int(np.ceil(20 * np.log10(top))) if top > 1 else 0
        thresholds = tuple(10.0 ** (np.arange(k0, -8 * 20 - 1, -1) / 20))
    proposals = [(lam_k, stlsq(theta, y, lam_k, keep)) for lam_k in thresholds]
    if pair is not None:
        # Many bodies: the pair force regression has a row per particle, axis and
        # sample and is exact on MD data, while a network's phi over a short range
        # of r cannot tell nearly collinear inverse powers apart. Its own path
        # proposes supports too; their coefficients still come from the network.
        for lam_k in thresholds:
            s = np.flatnonzero(stlsq(th_d, y_d, lam_k))
            if s.size:
                cols = sorted({varying[j] for j in s} | set(keep))
                b = np.zeros(len(library.terms))
                b[cols] = _lstsq(theta[:, cols], y)
                proposals.append((lam_k, b))
    path, seen, best = [], set(), None
    for lam_k, b in proposals:
        support = tuple(np.flatnonzero(b != 0))
        if support in seen:
            continue
        seen.add(support)
        cols = [varying.index(j) for j in support if j in varying]
        bd = np.zeros(len(varying))
        if cols:
            bd[cols] = _lstsq(th_d[:, cols], y_d)  # scaled: r^-12 columns are tiny
        crit = _bic(th_d, y_d, bd) if cols else np.inf
        step = PathStep(
            float(lam_k),
            tuple(library.terms[j] for j in support),
            _relative_residual(theta, y, b),
            float(crit),
        )
        path.append(step)
        if best is None or crit < best[0]:
            best = (crit, b, step)
    _, beta, step = best
    fit = _result(beta, step.threshold, step.residual, tuple(path), library)
    return fit.replace(method=f"support by the BIC of {how.kind} force regression on the data")


def _pair_forces(target, data: Trajectories, library: Library):
    """For a pair potential phi(r) learned from many bodies (one library symbol,
    data of more coordinates): the pair sums of the terms, with the geometry of
    the network that ``target`` belongs to (``model.pair_potential``) or of the
    data. None for a single system."""
    if len(library.symbols) != 1 or data.dim == 1:
        return None
    from .pairs import PairLibrary, geometry_of

    owner = getattr(target, "__self__", target)
    particles, dim, box, cutoff = geometry_of(
        data,
        getattr(owner, "particles", None),
        getattr(owner, "space", None),
        getattr(owner, "box", None),
        getattr(owner, "cutoff", None),
    )
    return PairLibrary(library.terms, library.symbols[0], particles, dim, box, cutoff)


def _check_threshold(threshold) -> None:
    if threshold is not None and not (
        isinstance(threshold, int | float) and np.isfinite(threshold) and threshold >= 0
    ):
        raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}.")


#: On the threshold path, models whose BIC is within this of the best are
#: refined by shooting and chosen between by the BIC of the trajectories.
BIC_MARGIN = 10.0


def _refined(fit, traj, how, theta, y, library, method, on_path) -> SparseFit:
    """``fit`` with coefficients fitted by shooting; with ``select="bic"`` the
    close competitors on the path are refined too, and the model of least
    trajectory BIC (2 cost + k log n, cost in noise units) wins.

    Regression rows of overlapping windows are correlated, so their BIC can
    hesitate between nested models (T1 with q alone at 1% noise: 4 or 5 terms,
    BIC 2 apart); the samples themselves are independent, and there the extra
    term must pay for itself in the likelihood.
    """
    from .rollout import refine as shoot

    candidates = [fit]
    if on_path and how.select == "bic":
        best = min(p.criterion for p in fit.path)
        chosen = set(fit.coefficients)
        for step in fit.path:
            if (
                step.criterion - best <= BIC_MARGIN
                and set(step.support) != chosen
                and step.support
            ):
                beta = stlsq(theta, y, step.threshold)
                res = _relative_residual(theta, y, beta)
                candidates.append(_result(beta, step.threshold, res, fit.path, library))
    n = traj.n_points * traj.dim * (2 if traj.has_momenta else 1)
    scored = []
    for cand in candidates:
        # Candidates are compared on short segments; only the winner goes on to
        # whole pieces (positions only), which costs several times more.
        r = shoot(cand, traj, noise=how.noise, continuation=False)
        scored.append((2 * r.cost + len(r.coefficients) * np.log(n), cand, r))
    _, cand, r = min(scored, key=lambda x: x[0])
    if not traj.has_momenta:
        start = cand.replace(coefficients=r.coefficients, expression=r.expression)
        r = shoot(start, traj, noise=how.noise)
    note = ""
    if len(scored) > 1:
        note = f"; chosen by trajectory BIC from {len(scored)} candidates"
    return cand.replace(
        coefficients=r.coefficients,
        expression=r.expression,
        stderr=r.stderr,
        intervals={t: (c - 1.96 * r.stderr[t], c + 1.96 * r.stderr[t])
                   for t, c in r.coefficients.items()},
        method=method + f"; refined by shooting over {r.segments} segments{note}",
        sources=dict.fromkeys(
            ("coefficients", "stderr"), f"shooting (maximum likelihood, {r.segments} segments)"
        ) | {"intervals": "shooting: coefficient +- 1.96 standard errors"},
    )  # fmt: skip


#: Bootstrap blocks span this many time scales of the data.
BLOCK_TAUS = 2.0


def _bootstrap(fit, theta, y, where, traj, how, n, seed, rule) -> SparseFit:
    """Ensemble SINDy by a block bootstrap over the rows of the regression."""
    from .noise import time_scale

    threshold, rtol, ratio, thresholds = rule
    block = max(1, round(BLOCK_TAUS * time_scale(traj, how.noise) / traj.h))
    _, groups = np.unique(where[:, 0] * (traj.N + 2) + where[:, 1] // block, return_inverse=True)
    G = int(groups.max()) + 1
    if G < 2:
        raise ValueError(
            "the bootstrap needs at least two blocks of data (pieces or stretches of "
            f"{block} samples); these data give one."
        )
    members = [np.flatnonzero(groups == g) for g in range(G)]
    rng = np.random.default_rng(seed)
    lib = fit.library
    betas = np.zeros((n, len(lib)))
    chosen = [j for j, t in enumerate(lib.terms) if t in fit.coefficients]
    conditional = np.zeros((n, len(chosen)))
    for b in range(n):
        rows = np.concatenate([members[g] for g in rng.integers(0, G, G)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            betas[b] = _fit_path(
                theta[rows], y[rows], lib, (), threshold, rtol, ratio, thresholds, how.select
            )[0]
        if chosen:
            conditional[b] = _lstsq(theta[rows][:, chosen], y[rows])
    inclusion = {t: float(np.mean(betas[:, j] != 0)) for j, t in enumerate(lib.terms)}
    # Intervals of the chosen terms, refitted on each resample with the chosen
    # support: the selection's own uncertainty is what ``inclusion`` reports, and
    # mixing it in would let a nearly collinear library (cos q ~ 1 - q^2/2 + ...)
    # swing the intervals over whole multiples of the coefficients.
    lo, hi = np.percentile(conditional, [2.5, 97.5], axis=0)
    intervals = {lib.terms[j]: (float(lo[i]), float(hi[i])) for i, j in enumerate(chosen)}
    regression = fit.method.split(";")[0]
    made = dict(fit.sources or {})
    what = f"block bootstrap of the sparse regression ({regression}), {n} resamples"
    if "shooting" in made.get("coefficients", ""):
        # Said, not hidden: these intervals are of a different estimator from the
        # coefficients beside them.
        what += "; not of shooting, which gives the coefficients"
    return fit.replace(
        inclusion=inclusion,
        intervals=intervals,
        method=fit.method + f"; bootstrap of {n} resamples of {G} blocks",
        sources=made | {"intervals": what, "inclusion": f"block bootstrap, {n} resamples"},
    )


def force_equations(
    traj: Trajectories,
    library: Library,
    kind: str,
    stride: int = 1,
    window: int | None = None,
    forces=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The linear system of force-SINDy: Theta beta = y, one row per observation
    and component.

    Parameters
    ----------
    traj : Trajectories
    library : Library
        Terms that vary (a constant has no gradient).
    kind, stride, window
        As in :func:`symhamil.losses.pairs`.
    forces : object with ``gradient(points)``, optional
        Gradients of the terms in place of ``library.gradient``: the pair sums
        of :class:`symhamil.pairs.PairLibrary` for many bodies.

    Returns
    -------
    theta : ndarray, shape (n * d, J)
    y : ndarray, shape (n * d,)
    time : ndarray of int, shape (n * d, 2)
        The trajectory and the first sample of each row's observation (for
        resampling blocks of the data).
    """
    pr = pairs(traj, kind, stride, window)
    d = traj.dim
    library = library if forces is None else forces

    def grads(q):  # (R, P, d) -> (R, P, d, J)
        return library.gradient(q.reshape(-1, d)).reshape((*q.shape, -1))

    if kind in ("forward", "verlet"):
        g = grads(pr.start)
    elif kind == "midpoint":
        g = 0.5 * (grads(pr.start) + grads(pr.end))
    else:
        g = pr.combine(grads(traj.q))
    theta = pr.rows(g).reshape(-1, g.shape[-1])
    y = -pr.rows(pr.dp).reshape(-1)
    where = np.stack(
        np.broadcast_arrays(np.arange(traj.R)[:, None, None], pr.index[None, :, None]), axis=-1
    )  # (R, P, 1, 2)
    where = pr.rows(np.broadcast_to(where, (*pr.dp.shape, 2))).reshape(-1, 2)
    return theta, y, where


def force_sindy(
    traj,
    library: Library,
    kind: str | None = None,
    stride: int = 1,
    threshold: float | None = None,
    rtol: float = 1e-10,
    ratio: float = 2.0,
    thresholds: Sequence[float] | None = None,
    *,
    select: str | None = None,
    window: int | None = None,
    smooth: int | None = None,
    refine: bool | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
) -> SparseFit:
    """Network-free SINDy on forces: a potential by construction.

    Regresses the observed force (minus the momentum change per time, or the
    mass times the acceleration for positions-only data) on the gradients of
    the library terms, one coefficient vector shared by all d components, so
    the result is always the gradient of sum_j beta_j xi_j. The constant term
    has no gradient and is dropped: the potential is returned without one.

    Parameters
    ----------
    traj : Trajectories, q (and p) of shape (R, N+1, d), d = len(library.symbols)
        Ragged pieces are used pair by pair inside each piece.
    library : Library
    kind : {"midpoint", "forward", "verlet", "weak"}, optional
        The observations (:mod:`symhamil.losses`): ``"midpoint"`` averages the
        gradients at q_i and q_{i+1} (O(h^2) bias), ``"forward"`` uses q_i (the
        paper's loss (3), O(h)), ``"verlet"`` uses second differences of q
        (positions only), ``"weak"`` integrates against smooth test functions
        over windows (noisy data). By default "midpoint" (or "verlet" without
        momenta) on clean data and "weak" on noisy data.
    stride : int
        Every ``stride``-th pair (pair kinds only).
    threshold : float, optional
        A fixed lambda; by default the threshold path is searched.
    rtol, ratio, thresholds
        The residual rule of :func:`sindy`.
    select : {"residual", "bic"}, optional
        How a model is chosen on the threshold path: the residual ratio rule,
        or the Bayesian information criterion. By default "residual" on clean
        data and "bic" on noisy data.
    window : int, optional
        Steps per test function of the weak form; by default chosen from the
        noise (:func:`symhamil.planning.choose_window`).
    smooth : int, optional
        Savitzky-Golay window (odd number of samples) to smooth q and p first.
    refine : bool, optional
        Once the terms are chosen, fit their coefficients to the trajectories
        themselves (maximum likelihood by multiple shooting,
        :func:`symhamil.rollout.refine`), which also gives their standard errors
        (``stderr``, ``intervals``). By default on noisy data, where it brings
        the errors down to near the Cramer-Rao bound (T1 at 1% noise: from
        ~2e-4 to ~1e-4).
    bootstrap : int
        Resample the data this many times (blocks of about two time scales of
        each piece, drawn with replacement) and repeat the regression and the
        model selection on each (ensemble SINDy): ``inclusion`` gets each term's
        share of the resamples that keep it, ``intervals`` the 2.5% and 97.5%
        percentiles of each chosen coefficient, refitted by least squares on the
        chosen terms in every resample.
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    SparseFit
    """
    _check_request("force_sindy", traj, kind, select, threshold, bootstrap, seed)
    if traj.dim != len(library.symbols):
        raise ValueError(
            f"the trajectories have d = {traj.dim} but the library has "
            f"{len(library.symbols)} symbols."
        )
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    return _force_fit(
        traj, varying, varying, kind, stride, threshold, (rtol, ratio, thresholds),
        select=select, window=window, smooth=smooth, refine=refine, bootstrap=bootstrap,
        seed=seed,
    )  # fmt: skip


#: The most bootstrap resamples a fit takes (more add nothing to a 95% interval).
MAX_BOOTSTRAP = 100_000


def check_seed(seed, what: str = "seed") -> None:
    """A seed is None or a whole number >= 0 (NumPy's rule), checked before any work."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{what} must be a whole number >= 0 (or None); got {seed!r}.")


def _check_request(what, traj, kind, select, threshold, bootstrap, seed=None) -> None:
    """The checks both force-SINDy entry points make before any work."""
    if not isinstance(traj, Trajectories):
        raise TypeError(
            f"{what} needs symhamil.Trajectories; got {type(traj).__name__}. Build them "
            "with symhamil.Trajectories(q=..., p=..., h=...)."
        )
    if kind is not None:
        check_loss(kind)
    if select is not None and select not in SELECTIONS:
        raise ValueError(f"unknown select {select!r}; choose one of {', '.join(SELECTIONS)}.")
    _check_threshold(threshold)
    whole_number(bootstrap, "bootstrap (resamples)", 0, MAX_BOOTSTRAP)
    check_seed(seed)


def _force_fit(
    traj, varying, forces, kind, stride, threshold, rule, *, select, window, smooth, refine,
    bootstrap, seed,
) -> SparseFit:  # fmt: skip
    """The body of force-SINDy: ``varying`` names the terms, ``forces.gradient``
    maps positions (K, d) to their gradients (K, d, J) (the library itself, or
    its pair sums for many bodies)."""
    from .planning import QUIET, plan  # noise estimation and smoothing; SciPy's signal module

    rtol, ratio, thresholds = rule
    how = plan(traj, kind=kind, select=select, window=window, smooth=smooth)
    data = how.prepare(traj)
    theta, y, where = force_equations(data, varying, how.kind, stride, how.window, forces)
    varying.check(theta)
    beta, lam, res, path = _fit_path(
        theta, y, varying, (), threshold, rtol, ratio, thresholds, how.select
    )
    fit = _result(beta, lam, res, path, varying)
    method = f"{how.kind}" + (f" (window {how.window})" if how.window else "")
    method += f", {how.select}" + (f", smoothed over {how.smooth}" if how.smooth else "")
    fit = fit.replace(method=method, sources={"coefficients": f"sparse regression ({method})"})
    noisy = how.noise is not None and how.noise.fraction > QUIET
    if forces is not varying:  # many bodies: shooting works on single systems only
        if refine:
            raise ValueError(
                "refine=True (fitting by shooting) is available for single systems, not yet "
                "for pair potentials; leave refine unset."
            )
        refine = False
    if (noisy if refine is None else refine) and fit.coefficients:
        fit = _refined(fit, traj, how, theta, y, varying, method, threshold is None)
    if bootstrap:
        fit = _bootstrap(fit, theta, y, where, data, how, int(bootstrap), seed,
                         (threshold, rtol, ratio, thresholds))  # fmt: skip
    return fit


def pair_force_sindy(
    traj: Trajectories,
    library: Library,
    particles: int | None = None,
    dim: int | None = None,
    box=None,
    cutoff: float | None = None,
    kind: str | None = None,
    stride: int = 1,
    threshold: float | None = None,
    rtol: float = 1e-10,
    ratio: float = 2.0,
    thresholds: Sequence[float] | None = None,
    *,
    select: str | None = None,
    window: int | None = None,
    smooth: int | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
) -> SparseFit:
    """Force-SINDy for many bodies: one pair potential phi(r) for every pair.

    Each library term g(r) enters as the potential sum_{i<j} g(r_ij), whose force
    on particle i is -sum_j g'(r_ij) (q_i - q_j)/r_ij; the observed forces of all
    particles are regressed on these, so the fit stays linear and exact and its
    ``expression`` is phi in the library's symbol.

    Parameters
    ----------
    traj : Trajectories, q of shape (R, N+1, N_p s)
        Coordinates particle-major (x1, y1, z1, x2, ...), as
        :func:`~symhamil.simulate` of a pair system and :func:`~symhamil.read_ase`
        give them. Positions-only data need ``traj.masses`` for phi in energy
        units (else phi per unit mass).
    library : Library
        Terms in one symbol, the distance r (e.g. inverse powers and exponentials).
    particles, dim : int, optional
        N_p and s; one of them, or a box, is enough.
    box : float or sequence of float, length s, optional
        A periodic orthorhombic box (``traj.box`` by default).
    cutoff : float, optional
        Only pairs closer than this interact (half the box by default in a box).
        Use the cutoff the data were made with; a shorter one leaves forces out.
    kind, stride, threshold, rtol, ratio, thresholds, select, window, smooth, bootstrap, seed
        As in :func:`force_sindy` (refinement by shooting is not available for
        pair potentials).

    Returns
    -------
    SparseFit
        Over ``library`` in r; compare it with the true phi by
        :func:`~symhamil.compare` (constants and shifts ignored).

    Examples
    --------
    >>> import numpy as np, symhamil as sh
    >>> springs = sh.catalog.pair_spring(k=2, particles=3, dim=2)
    >>> rng = np.random.default_rng(0)
    >>> q0, p0 = rng.uniform(0, 2, 6), rng.normal(0, 0.3, 6)
    >>> tr = sh.simulate(springs, q0, p0, h=0.005, steps=400, substeps=1)  # velocity Verlet
    >>> fit = sh.pair_force_sindy(tr, sh.Library.polynomial((sh.catalog.R,), 3), particles=3)
    >>> {str(t): round(c, 9) for t, c in fit.coefficients.items()}
    {'r': -4.0, 'r**2': 2.0}
    """
    _check_request("pair_force_sindy", traj, kind, select, threshold, bootstrap, seed)
    if not isinstance(library, Library) or len(library.symbols) != 1:
        raise ValueError(
            "the library of a pair potential must be a symhamil.Library in one symbol, the "
            f"distance r; got {library!r}."
        )
    from .pairs import PairLibrary, geometry_of

    particles, dim, box, cutoff = geometry_of(traj, particles, dim, box, cutoff)
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    forces = PairLibrary(varying.terms, varying.symbols[0], particles, dim, box, cutoff)
    return _force_fit(
        traj, varying, forces, kind, stride, threshold, (rtol, ratio, thresholds),
        select=select, window=window, smooth=smooth, refine=None, bootstrap=bootstrap,
        seed=seed,
    )  # fmt: skip
