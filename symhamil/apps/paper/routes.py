"""The routes: the ways each training set is learned, as objects that carry their name.

A :class:`Route` knows its name, title, colours, and how it learns a case and
judges the result; nothing outside this module switches on a route's name.

``faithful``
    the paper's forward-difference loss (3), its architecture and recipe, SINDy
    at the paper's fixed threshold;
``symhamil``
    symhamil's midpoint loss, a float64 tanh network, Adam then L-BFGS-B, and the
    threshold protocol of :func:`symhamil.sindy`;
``force_sindy``
    no network: :func:`symhamil.force_sindy` (midpoint) on the raw data.

To add a route: subclass :class:`Route` (or :class:`NetworkRoute`), give the
case recipes under its name if it trains a network, and add it to
:data:`ROUTES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import sympy as sp

from ...base.files import real_folder
from ...interpret.compare import compare, decompose
from ...interpret.export import pade, to_sympy
from ...sindy import Selection, SparseFit, force_sindy, sindy
from .experiments import Case
from .models import train
from .results import Curve, PathStep, RouteResult, Training

__all__ = ["ROUTES", "ForceSindyRoute", "NetworkRoute", "Route", "route"]

#: Points per sampled curve in results.json (enough for a smooth figure).
CURVE_POINTS = 300
#: Scattered samples per point cloud (the Coulomb figure), per data set.
CLOUD_POINTS = 1500


@dataclass(frozen=True)
class Route:
    """A way of learning a case.

    Attributes
    ----------
    name : str
        Key in results.json and in a case's recipes.
    title, short : str
        For prose and for table headers.
    colour, extrapolation : str
        Matplotlib colours of its curves inside and beyond the data range.
    """

    name: str
    title: str
    short: str
    colour: str
    extrapolation: str

    def learn(
        self, case: Case, out: Path, seed: int, say
    ) -> tuple[RouteResult, Mapping[str, str]]:
        """Learn ``case``; returns the judged result and notes for the report."""
        raise NotImplementedError

    def method(self, case: Case) -> str:
        """One sentence for the report: how this route learned."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def judge(self, fit: SparseFit, case: Case, training=None, curves=()) -> RouteResult:
        """Compare ``fit`` (in the case's variable) with the truth, term by term."""
        cmp = compare(fit.expression, case.truth, (case.variable,), terms=case.library.terms)
        return RouteResult(
            route=self.name,
            coefficients=dict(fit.coefficients),
            relative_error={r.term: r.relative_error for r in cmp.rows},
            true_support=cmp.same_support,
            expression_latex=fit.latex(8),
            threshold=fit.threshold,
            residual=fit.residual,
            path=tuple(PathStep(s.threshold, tuple(s.support), s.residual) for s in fit.path),
            training=training,
            curves=tuple(curves),
        )


def line_curves(case: Case, values, truth_values) -> tuple[Curve, ...]:
    """A potential on the case's plotting grid, split into data range and extrapolation.

    The arbitrary constant is removed by matching the truth's mean over the data.
    """
    grid, inside = plot_grid(case)
    v = np.asarray(values(grid[:, None]), dtype=float) * np.ones_like(grid)
    v = v - np.mean(v[inside] - truth_values[inside])
    return (
        Curve("data range", grid[inside], v[inside]),
        Curve("extrapolated", grid[~inside], v[~inside]),
    )


def plot_grid(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The grid of the potential figure and which of its points lie in the data range."""
    x = case.train.q.reshape(-1)
    lo, hi = float(x.min()), float(x.max())
    a, b = case.plot_range or (lo, hi)
    grid = np.linspace(min(a, lo), max(b, hi), CURVE_POINTS)
    return grid, (grid >= lo) & (grid <= hi)


def truth_values(case: Case, x: np.ndarray) -> np.ndarray:
    f = sp.lambdify(case.variable, case.truth, "numpy")
    return np.asarray(f(x), dtype=float) * np.ones_like(x)


@dataclass(frozen=True)
class NetworkRoute(Route):
    """Train the case's recipe for this route, then SINDy on the network's values.

    Attributes
    ----------
    fixed_threshold : bool
        Use the case's paper threshold (the faithful route) instead of the
        threshold protocol.
    """

    fixed_threshold: bool = False

    def learn(self, case, out, seed, say):
        recipe = case.recipes[self.name]
        say(f"[{case.key}] training {self.title}: {recipe.describe()}")
        folder = real_folder(out, "models", case.key, self.name)  # no link on the way
        trained = train(
            case.train,
            recipe,
            folder,
            seed,
            case.sample_points,
            lambda t: say(f"[{case.key}] {t}"),
        )
        model = trained.model
        if trained.loaded:
            say(f"[{case.key}] {self.title}: loaded the finished model from {folder}")
        threshold = case.paper_threshold if self.fixed_threshold else None
        fit = interpret(model, case, threshold)
        training = Training(
            description=recipe.describe(),
            recipe=recipe.to_json(),
            steps=trained.steps,
            iterations=trained.iterations,
            final_loss=float(model.loss_),
            train_loss=float(model.loss(case.train, recipe.loss)),
            test_loss=None if case.test is None else float(model.loss(case.test, recipe.loss)),
            loss=recipe.loss,
            wall_time=trained.wall_time,
            history=trained.history,
        )
        result = self.judge(fit, case, training, self._curves(model, case))
        say(
            f"[{case.key}] {self.title}: {training.wall_time:.1f} s, loss "
            f"{training.final_loss:.3e}, max relative error {result.max_relative_error:.2e}, "
            f"true support {result.true_support}"
        )
        notes = {}
        if case.export_network and self.fixed_threshold:
            say(f"[{case.key}] exporting the {self.title} network to SymPy, Pade [3/3]")
            notes = exported(model, case)
        return result, notes

    def _curves(self, model, case: Case) -> tuple[Curve, ...]:
        if case.train.dim == 1:
            grid, _ = plot_grid(case)
            return line_curves(case, model.potential, truth_values(case, grid))
        # A pair potential seen through a d-dimensional network: V against r at
        # training and held-out positions (the paper's Figures 5-6).
        curves, shift = [], None
        for data, name in ((case.train, "train points"), (case.test, "test points")):
            if data is None:
                continue
            pts = data.q.reshape(-1, data.dim)
            pts = pts[:: max(1, len(pts) // CLOUD_POINTS)]
            r = case.to_variable(pts)[:, 0]
            v = np.asarray(model.potential(pts), dtype=float)
            if shift is None:
                shift = float(np.mean(v - truth_values(case, r)))
            curves.append(Curve(name, r, v - shift))
        return tuple(curves)

    def method(self, case):
        return case.recipes[self.name].describe()


def interpret(model, case: Case, threshold: float | None = None) -> SparseFit:
    """SINDy on the network's values at the training points, in the case's variable."""
    x = case.sample_points()
    y = np.asarray(model.potential(x), dtype=float)
    # The network lives in the data's coordinates (6 for the Coulomb pair), the
    # library in the case's variable (r): hand SINDy the values, point by point.
    return sindy(
        lambda _: y, case.library, case.to_variable(x), selection=Selection(threshold=threshold)
    )


def exported(model, case: Case) -> dict[str, str]:
    """The paper's exported SymPy form of the network and a Pade attempt, as report notes."""
    r = case.variable
    expr = to_sympy(model, (r,))
    lo, hi = float(case.train.q.min()), float(case.train.q.max())
    mid = 0.5 * (lo + hi)
    approx = pade(expr, r, mid, 3, 3, interval=(lo, hi), target=model.potential)

    def short(e, digits):
        return sp.sstr(e.xreplace({f: sp.Float(f, digits) for f in e.atoms(sp.Float)}))

    return {
        "exported": short(expr, 4),
        "exported_ops": str(int(sp.count_ops(expr))),
        "pade": short(approx.expression, 5),
        "pade_center": f"{mid:.3g}",
        "pade_max_error": f"{approx.max_error:.3e}",
    }


@dataclass(frozen=True)
class ForceSindyRoute(Route):
    """force-SINDy (midpoint) on the raw data, returned in the case's variable."""

    def learn(self, case, out, seed, say):
        n = case.train.R
        say(f"[{case.key}] force-SINDy on {n} {'trajectory' if n == 1 else 'trajectories'}")
        raw = force_sindy(case.train, case.force_library, kind="midpoint")
        to_var = dict(zip(case.force_library.terms, case.library.terms, strict=True))
        coeffs = {to_var[t]: c for t, c in raw.coefficients.items()}
        expr = sp.Add(*(sp.Float(c, 17) * t for t, c in coeffs.items()))
        path = tuple(
            type(s)(s.threshold, tuple(to_var[t] for t in s.support), s.residual) for s in raw.path
        )
        fit = SparseFit(coeffs, expr, raw.threshold, raw.residual, path, case.library)
        curves = ()
        if case.train.dim == 1:
            grid, _ = plot_grid(case)
            f = sp.lambdify(case.variable, expr, "numpy")
            curves = line_curves(case, lambda x: f(x[:, 0]), truth_values(case, grid))
        return self.judge(fit, case, None, curves), {}

    def method(self, case):
        return (
            "no network; STLSQ on the forces $-(p_{i+1}-p_i)/h$ against the library's "
            "gradients (midpoint)"
        )


ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        r.name: r
        for r in (
            NetworkRoute("faithful", "paper-faithful", "faithful", "tab:orange", "tab:red", True),
            NetworkRoute("symhamil", "symhamil", "symhamil", "tab:blue", "tab:purple"),
            ForceSindyRoute("force_sindy", "force-SINDy", "force-SINDy", "tab:green", "tab:olive"),
        )
    }
)


def route(name: str) -> Route:
    """The route called ``name``; an unknown name is refused, listing the known ones."""
    if name not in ROUTES:
        raise ValueError(f"unknown route {name!r}; choose one of {', '.join(ROUTES)}.")
    return ROUTES[name]


def truth_terms(case: Case) -> dict:
    """The truth's non-constant terms {term: coefficient}, in the library's terms."""
    terms = list(case.library.terms)
    parts = decompose(case.truth, (case.variable,), terms)
    order = sorted(parts, key=lambda t: terms.index(t) if t in terms else len(terms))
    return {t: float(parts[t]) for t in order if t != 1}
