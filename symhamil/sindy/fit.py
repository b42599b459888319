"""The result of a sparse regression: :class:`SparseFit`, a frozen value with its
threshold path, uncertainties, provenance and JSON form."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import sympy as sp

from ..base.files import read_json_as, write_json
from ..base.parsing import check_name, parse_formula
from .library import Library, LibraryWarning

__all__ = ["SOURCE_FIELDS", "STEPS", "PathStep", "SparseFit", "Stage"]

#: The parts of a fit whose estimator its provenance names.
SOURCE_FIELDS = ("coefficients", "stderr", "intervals", "inclusion")

#: The stages a fit can go through, in order.
STEPS = ("regression", "selection", "refinement", "ensemble", "recorded")


@dataclass(frozen=True)
class Stage:
    """One stage of how a fit was made: what it did, with which settings, and
    which parts of the fit it set.

    Attributes
    ----------
    step : {"regression", "selection", "refinement", "ensemble", "recorded"}
        ``"recorded"`` stands for a stage read from a file of symhamil 0.1,
        which kept only a text per part.
    estimator : str
        What computed it, in words ("sparse regression", "shooting (maximum
        likelihood)", "block bootstrap of the sparse regression").
    settings : Mapping {str: str, float, int, bool or None}
        Its settings (observations, window, rule, threshold, segments,
        resamples, ...), JSON-ready.
    gives : tuple of str
        The parts of the fit it set, among :data:`SOURCE_FIELDS`.
    """

    step: str
    estimator: str
    settings: Mapping = field(default_factory=dict)
    gives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"unknown stage {self.step!r}; one of {', '.join(STEPS)}.")
        gives = tuple(self.gives)
        if not set(gives) <= set(SOURCE_FIELDS):
            raise ValueError(f"a stage gives some of {', '.join(SOURCE_FIELDS)}; got {gives}.")
        settings = dict(self.settings)
        for k, v in settings.items():
            if not isinstance(k, str) or not (
                v is None or isinstance(v, str | bool | int | float)
            ):
                raise ValueError(f"stage settings are plain values by name; got {k!r}: {v!r}.")
        object.__setattr__(self, "settings", MappingProxyType(settings))
        object.__setattr__(self, "gives", gives)

    def describe(self) -> str:
        """The estimator with its settings, in one line."""
        shown = [f"{k} {v}" for k, v in self.settings.items() if v is not None]
        return self.estimator + (f" ({', '.join(shown)})" if shown else "")

    def to_json(self) -> dict:
        return {"step": self.step, "estimator": self.estimator,
                "settings": dict(self.settings), "gives": list(self.gives)}  # fmt: skip

    @classmethod
    def from_json(cls, d) -> Stage:
        if not isinstance(d, dict):
            raise ValueError("a stage of its provenance is not a JSON object")
        text = d.get("estimator")
        if not isinstance(text, str) or len(text) > 500:
            raise ValueError("a stage's estimator must be a text of at most 500 characters")
        settings = d.get("settings", {})
        if not isinstance(settings, dict) or len(settings) > 50:
            raise ValueError("a stage's settings must be an object of at most 50 entries")
        for v in settings.values():
            if isinstance(v, str) and len(v) > 500:
                raise ValueError("a stage's setting is longer than 500 characters")
            if isinstance(v, float) and not np.isfinite(v):
                raise ValueError("a stage's setting is not finite")
        gives = d.get("gives", [])
        if not isinstance(gives, list):
            raise ValueError("a stage's gives must be a list")
        return cls(str(d.get("step")), text, settings, tuple(gives))


@dataclass(frozen=True)
class PathStep:
    """One threshold of the protocol: lambda, the terms kept, the relative residual,
    and (with the BIC rule) the model's Bayesian information criterion."""

    threshold: float
    support: tuple[sp.Expr, ...]
    residual: float
    criterion: float | None = None


#: The radius r = |q| that central potentials are printed in.
RADIUS = sp.Symbol("r", positive=True)


def in_radius(expr: sp.Expr, symbols) -> sp.Expr:
    """``expr`` written in r = |q| (RADIUS) when it depends on ``symbols`` (2 or
    more coordinates) only through their sum of squares; otherwise ``expr``.

    -1/sqrt(x**2 + y**2 + z**2) + 0.1*(x**2 + y**2 + z**2) reads -1/r + 0.1*r**2.
    """
    symbols = tuple(symbols)
    if len(symbols) < 2 or any(s.name == RADIUS.name for s in symbols):
        return expr
    r2 = sp.Add(*(s**2 for s in symbols))
    out = expr.subs(r2, RADIUS**2)
    return expr if out.free_symbols & set(symbols) else out


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
        How the model was found, in one line (the observations, the selection
        rule, and whether it was refined).
    provenance : tuple of Stage
        Each stage the fit went through (regression, selection, refinement,
        ensemble) with its estimator and settings, and the parts of the fit it
        set; :attr:`sources` is read off it.
    friction_coefficients : Mapping {sympy.Expr: float}, optional
        The nonzero coefficients of the friction's terms (Rayleigh functions
        R(q, p) in the momentum symbols), when a friction library was fitted;
        their standard errors, intervals and inclusion are in ``stderr``,
        ``intervals`` and ``inclusion`` beside the potential's.
    friction_library : Library, optional
        The friction library fitted, over the coordinates and the momenta.
    masses, masses_stderr : tuple of float, length d, optional
        The diagonal masses V is in units of, when they were fitted
        (``force_sindy(..., masses="fit")``), and their standard errors (0 for
        the masses that were given).
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
    provenance: tuple[Stage, ...] = ()
    friction_coefficients: Mapping | None = None
    friction_library: Library | None = None
    masses: tuple[float, ...] | None = None
    masses_stderr: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "provenance", tuple(self.provenance))
        # Read-only views: a fit is a value, not a dict to edit.
        for name in ("coefficients", "stderr", "inclusion", "intervals", "friction_coefficients"):
            v = getattr(self, name)
            if v is not None:
                if name == "intervals":
                    v = {t: (float(a), float(b)) for t, (a, b) in dict(v).items()}
                object.__setattr__(self, name, MappingProxyType(dict(v)))
        object.__setattr__(self, "path", tuple(self.path))
        for name in ("masses", "masses_stderr"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(float(x) for x in v))

    def replace(self, **changes) -> SparseFit:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def then(self, stage: Stage, **changes) -> SparseFit:
        """A copy after one more stage: ``changes`` set, ``stage`` appended."""
        return replace(self, provenance=(*self.provenance, stage), **changes)

    @property
    def sources(self) -> Mapping | None:
        """Which estimator gave each of ``coefficients``, ``stderr``, ``intervals``
        and ``inclusion`` (the last stage that set it), read-only.

        With shooting and a bootstrap, coefficients, standard errors and
        intervals are shooting's, and the inclusion probabilities the bootstrap's.
        """
        if not self.provenance:
            return None
        return MappingProxyType(
            {part: stage.describe() for stage in self.provenance for part in stage.gives}
        )

    @property
    def friction(self) -> sp.Expr:
        """The Rayleigh dissipation function R(q, p) = sum_k gamma_k R_k, so that
        dp/dt = -grad V - dR/dp; zero when no friction was fitted or kept."""
        terms = self.friction_coefficients or {}
        return sp.Add(*(sp.Float(c, 17) * t for t, c in terms.items()))

    def rounded_friction(self, digits: int = 6) -> sp.Expr:
        """:attr:`friction` with coefficients to ``digits`` significant digits."""
        terms = self.friction_coefficients or {}
        return sp.Add(*(sp.Float(c, digits) * t for t, c in terms.items()))

    def friction_latex(self, digits: int = 6) -> str:
        """R in LaTeX, coefficients to ``digits`` significant digits ("0" without friction)."""
        return sp.latex(self.rounded_friction(digits))

    def rounded(self, digits: int = 6) -> sp.Expr:
        """The expression with coefficients to ``digits`` significant digits, for
        reading: written in r = |q| when it depends on the coordinates only
        through it (a central potential from a radial library)."""
        expr = sp.Add(*(sp.Float(c, digits) * t for t, c in self.coefficients.items()))
        return in_radius(expr, self.library.symbols)

    def latex(self, digits: int = 6) -> str:
        """The expression in LaTeX, coefficients to ``digits`` significant digits
        (in r for a central potential)."""
        return sp.latex(self.rounded(digits))

    def __repr__(self) -> str:
        expr = sp.sstr(self.rounded())
        if len(expr) > 80:
            expr = expr[:77] + "..."
        drag = ""
        if self.friction_library is not None:
            drag = f"; R = {sp.sstr(self.rounded_friction())}"
        return (
            f"SparseFit({expr}{drag}; {len(self.coefficients)} of {len(self.library)} terms, "
            f"threshold {self.threshold:.3g}, residual {self.residual:.3g})"
        )

    def _repr_latex_(self) -> str:
        if self.friction_library is not None:
            return f"$\\hat V = {self.latex()}, \\quad \\hat R = {self.friction_latex()}$"
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
            "provenance": [s.to_json() for s in self.provenance],
            "sources": None if self.sources is None else dict(self.sources),
            "masses": None if self.masses is None else list(self.masses),
            "masses_stderr": None if self.masses_stderr is None else list(self.masses_stderr),
            "friction": None if self.friction_library is None else {
                "symbols": [s.name for s in self.friction_library.symbols],
                "library": [sp.sstr(t) for t in self.friction_library.terms],
                "coefficients": _terms_json(self.friction_coefficients),
            },
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict) -> SparseFit:
        """Read :meth:`to_json`'s form; terms are parsed with only the library's symbols
        known (no Python evaluated)."""
        symbols = tuple(sp.Symbol(check_name(n)) for n in d["symbols"])
        drag = d.get("friction")
        friction_library, friction_coeffs, drag_symbols = None, None, ()
        if drag is not None:
            if not isinstance(drag, dict):
                raise ValueError("its friction must be an object (symbols, library, coefficients)")
            drag_symbols = tuple(sp.Symbol(check_name(n)) for n in drag["symbols"])
        known = tuple(dict.fromkeys((*symbols, *drag_symbols)))

        def term(text):
            return parse_formula(text, known, "term")

        library = Library(tuple(term(t) for t in d["library"]), symbols)
        if drag is not None:
            friction_library = Library(tuple(term(t) for t in drag["library"]), drag_symbols)
            friction_coeffs = {term(t): float(c) for t, c in drag["coefficients"].items()}
            if any(t not in friction_library.terms for t in friction_coeffs):
                raise ValueError("its friction names terms that are not in its friction library")
            if not all(np.isfinite(c) for c in friction_coeffs.values()):
                raise ValueError("a friction coefficient is not finite")
        every = library.terms + (() if friction_library is None else friction_library.terms)
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
            if any(t not in every for t in out):
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
            provenance=_provenance_from_json(d),
            friction_coefficients=friction_coeffs,
            friction_library=friction_library,
            masses=_masses_json(d.get("masses"), len(symbols), "masses"),
            masses_stderr=_masses_json(d.get("masses_stderr"), len(symbols), "masses_stderr"),
        )

    def save(self, path) -> None:
        """Write :meth:`to_json` to ``path`` (atomically)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path) -> SparseFit:
        """Read a fit written by :meth:`save`."""
        return read_json_as(path, cls.from_json, "SparseFit")


#: The most stages a fit's provenance holds in a file.
MAX_STAGES = 20


def _provenance_from_json(d: dict) -> tuple[Stage, ...]:
    stages = d.get("provenance")
    if stages is not None:
        if not isinstance(stages, list) or len(stages) > MAX_STAGES:
            raise ValueError(f"its provenance must be a list of at most {MAX_STAGES} stages")
        return tuple(Stage.from_json(s) for s in stages)
    # symhamil 0.1 kept one text per part.
    old = d.get("sources")
    if old is None:
        return ()
    if not isinstance(old, dict) or not all(
        k in SOURCE_FIELDS and isinstance(v, str) and len(v) <= 500 for k, v in old.items()
    ):
        raise ValueError(f"its sources must map {', '.join(SOURCE_FIELDS)} to short texts")
    return tuple(Stage("recorded", v, {}, (k,)) for k, v in old.items())


def _masses_json(v, d: int, key: str):
    """A fit's masses (or their standard errors) from JSON: d numbers, or None."""
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != d:
        raise ValueError(f"its {key} must be a list of {d} numbers")
    out = tuple(float(x) for x in v)
    if not all(np.isfinite(x) and x >= 0 for x in out):
        raise ValueError(f"its {key} must be finite numbers >= 0")
    return out


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
