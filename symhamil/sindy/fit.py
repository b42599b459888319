"""The result of a sparse regression: :class:`SparseFit`, a frozen value with its
threshold path, uncertainties, provenance and JSON form."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import sympy as sp

from ..base.files import read_json_as, write_json
from ..base.parsing import check_name, parse_formula
from .library import Library, LibraryWarning

__all__ = ["SOURCE_FIELDS", "PathStep", "SparseFit"]


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
        refined by shooting, :func:`symhamil.refine`).
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
