"""Run the paper's experiments: train, interpret, compare, and write the results.

:func:`run_case` learns one :class:`~symhamil.experiments.Case` by the three
routes and returns a frozen :class:`CaseResult`; :func:`reproduce` runs
experiments, writes ``results.json``, the figures and the LaTeX report to a
folder, and prints the coefficient table. ``symhamil reproduce`` is its
command line.

Layout of the output folder::

    results.json                 every number of the table (schema: RESULTS_SCHEMA)
    run.json                     the budget and seed that own the folder
    report.tex, report.pdf       the report (the PDF where a LaTeX engine is installed)
    figures/<case>-*.png, .pdf   the figures
    models/<case>/<route>/       trained networks (NeuralPotential.save), checkpoints
    data/<case>-train.npz        the data (Trajectories.save), and -test.npz
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sympy as sp

from . import __version__
from .compare import compare, decompose, format_relative_error
from .experiments import (
    BUDGETS,
    EXPERIMENTS,
    ROUTE_TITLES,
    ROUTES,
    Case,
    Training,
    check_budget,
    experiment,
    paper_results,
    paper_term,
)
from .export import pade, to_sympy
from .sindy import SparseFit, force_sindy, sindy

#: The targets of the issue: symhamil's default within 0.1% with the true support.
DEFAULT_TARGET = 1e-3

#: What results.json holds (documented in docs/results.md; the tests check it).
RESULTS_SCHEMA = {
    "top": ("symhamil_version", "budget", "seed", "command", "machine", "wall_time", "cases"),
    "case": (
        "title",
        "experiment",
        "variable",
        "data",
        "truth",
        "paper",
        "paper_relative_error",
        "routes",
        "targets",
        "wall_time",
        "figures",
    ),
    "route": (
        "coefficients",
        "relative_error",
        "max_relative_error",
        "true_support",
        "expression_latex",
        "threshold",
        "residual",
        "path",
        "training",
    ),
}


@dataclass(frozen=True)
class RouteResult:
    """One route's recovered potential and how it was obtained.

    Attributes
    ----------
    route : str
        ``"paper"``, ``"default"`` or ``"force_sindy"``.
    fit : SparseFit
        In the case's variable.
    coefficients : dict {str: float}
        By term (``sympy.sstr``), the constant included where fitted.
    relative_error : dict {str: float}
        |recovered - true| / |true| per non-constant term of either; inf for a
        spurious term.
    true_support : bool
        The non-constant terms kept are exactly the true ones.
    training : dict or None
        description, steps, final_loss, train_loss, test_loss, wall_time.
    """

    route: str
    fit: SparseFit
    coefficients: dict
    relative_error: dict
    true_support: bool
    training: dict | None = None

    @property
    def max_relative_error(self) -> float:
        return max(self.relative_error.values(), default=0.0)

    def to_json(self) -> dict:
        return {
            "coefficients": self.coefficients,
            "relative_error": {k: _finite(v) for k, v in self.relative_error.items()},
            "max_relative_error": _finite(self.max_relative_error),
            "true_support": self.true_support,
            "expression_latex": self.fit.latex(8),
            "threshold": self.fit.threshold,
            "residual": self.fit.residual,
            "path": [
                {
                    "threshold": s.threshold,
                    "terms": [sp.sstr(t) for t in s.support],
                    "residual": s.residual,
                }
                for s in self.fit.path
            ],
            "training": self.training,
        }


@dataclass(frozen=True, eq=False)
class CaseResult:
    """Everything measured on one case (one row group of the table, one report section)."""

    case: Case
    truth: dict
    paper: dict
    paper_relative_error: dict
    routes: dict
    wall_time: float
    figures: tuple[str, ...] = ()
    extras: dict = field(default_factory=dict)

    @property
    def targets(self) -> dict:
        """Which of the issue's targets this case meets."""
        paper_ok = None
        if self.paper_relative_error and "paper" in self.routes:
            mine = self.routes["paper"]
            paper_ok = mine.true_support and all(
                mine.relative_error.get(t, np.inf) <= e
                for t, e in self.paper_relative_error.items()
            )
        default = self.routes.get("default")
        return {
            "paper_faithful_at_least_as_close_as_paper": paper_ok,
            "default_within_0.1_percent_true_support": None
            if default is None
            else bool(default.true_support and default.max_relative_error <= DEFAULT_TARGET),
        }

    def to_json(self) -> dict:
        c = self.case
        return {
            "title": c.title,
            "experiment": c.experiment,
            "variable": str(c.variable),
            "data": {
                "note": c.data_note,
                "train_shape": list(c.train.q.shape),
                "test_shape": None if c.test is None else list(c.test.q.shape),
                "h": c.train.h,
            },
            "truth": self.truth,
            "paper": self.paper,
            "paper_relative_error": self.paper_relative_error,
            "routes": {k: r.to_json() for k, r in self.routes.items()},
            "targets": self.targets,
            "wall_time": self.wall_time,
            "figures": list(self.figures),
            "extras": self.extras,
        }


def _finite(x: float):
    """JSON has no inf: a spurious term's error is written as null."""
    return float(x) if np.isfinite(x) else None


def _key(term: sp.Expr) -> str:
    return sp.sstr(term)


# ---------------------------------------------------------------- one case
def _say(progress: Callable[[str], None] | None, text: str) -> None:
    if progress is not None:
        progress(text)


def _train_stage(train, spec: Training, folder: Path, model=None):
    from .neural import NeuralPotential  # TensorFlow is loaded here, not at import

    if model is None:
        model = NeuralPotential(
            dim=train.dim,
            hidden=spec.hidden,
            activation=spec.activation,
            features=spec.features,
            output=spec.output,
        )
    return model.fit(train, **spec.fit_kwargs(), checkpoint_dir=folder / "checkpoints")


def train_route(case: Case, route: str, out: Path):
    """Train the network of ``route``, or load it if ``out`` already holds it.

    An interrupted training resumes from its checkpoints under ``out``.

    Returns
    -------
    model : NeuralPotential
    training : dict
        description, steps, final_loss (of the last stage, as trained),
        train_loss / test_loss (the route's loss on all pairs), wall_time.
    """
    from .neural import NeuralPotential

    spec = case.trainings[route]
    folder = out / "models" / case.key / route
    done = folder / "training.json"
    if done.is_file() and (folder / "model").is_dir():
        # A finished training is loaded, not trained again (checkpoints resume
        # unfinished ones); another recipe in the same folder is refused.
        training = json.loads(done.read_text())
        if training["description"] != spec.describe():
            raise ValueError(
                f"{folder} holds a model trained as {training['description']!r}, not as "
                f"{spec.describe()!r} (another budget?). Use another --out, or delete it."
            )
        return NeuralPotential.load(folder / "model"), training
    t0 = time.perf_counter()
    model = _train_stage(case.train, spec, folder / "stage1")
    steps = model.n_steps_
    history = [model.history_]
    if spec.then is not None:
        nxt = spec.then
        warm = NeuralPotential.from_model(model, activation=nxt.activation)
        if spec.center:
            # The constant and scale of V are free at a warm start: bring the output
            # to mean 0 and range 0.5, where exp is nearly linear. Without this,
            # exp of the elu network's values (~20) overflows and training diverges.
            z = warm.potential(case.sample_points())
            weights = warm.get_weights()
            a = 0.5 / max(float(np.ptp(z)), 1e-12)
            weights[-2], weights[-1] = a * weights[-2], a * (weights[-1] - z.mean())
            warm.set_weights(weights)
        warm = NeuralPotential.from_model(warm, output=nxt.output)
        model = _train_stage(case.train, nxt, folder / "stage2", warm)
        steps += model.n_steps_
        history.append(model.history_)
        spec_loss = nxt.loss
    else:
        spec_loss = spec.loss
    wall = time.perf_counter() - t0
    model.save(folder / "model")
    training = {
        "description": spec.describe(),
        "steps": int(steps),
        "final_loss": float(model.loss_),
        "train_loss": float(model.loss(case.train, spec_loss)),
        "test_loss": None if case.test is None else float(model.loss(case.test, spec_loss)),
        "loss": spec_loss,
        "wall_time": wall,
        "iterations": int(sum(len(h) for h in history)),
        # At most ~400 points of the loss curve, for the figure.
        "history": [float(v) for v in _thin(np.concatenate(history), 400)],
    }
    done.write_text(json.dumps(training))
    return model, training


def _thin(x: np.ndarray, n: int) -> np.ndarray:
    return x[:: max(1, len(x) // n)]


def _judge(fit: SparseFit, case: Case, route: str, training=None) -> RouteResult:
    cmp = compare(fit.expression, case.truth, (case.variable,), terms=case.library.terms)
    errors = {_key(r.term): r.relative_error for r in cmp.rows}
    coefficients = {_key(t): c for t, c in fit.coefficients.items()}
    return RouteResult(route, fit, coefficients, errors, cmp.same_support, training)


def interpret(model, case: Case, threshold: float | None = None) -> SparseFit:
    """SINDy on the network's values at the training points, in the case's variable."""
    x = case.sample_points()
    y = np.asarray(model.potential(x), dtype=float)
    # The network lives in the data's coordinates (6 for the Coulomb pair), the
    # library in the case's variable (r): hand SINDy the values, point by point.
    return sindy(lambda _: y, case.library, case.to_variable(x), threshold=threshold)


def baseline(case: Case) -> SparseFit:
    """force-SINDy (midpoint) on the raw data, returned in the case's variable."""
    raw = force_sindy(case.train, case.force_library, kind="midpoint")
    to_var = dict(zip(case.force_library.terms, case.library.terms, strict=True))
    coeffs = {to_var[t]: c for t, c in raw.coefficients.items()}
    expr = sp.Add(*(sp.Float(c, 17) * t for t, c in coeffs.items()))
    path = tuple(
        type(s)(s.threshold, tuple(to_var[t] for t in s.support), s.residual) for s in raw.path
    )
    return SparseFit(coeffs, expr, raw.threshold, raw.residual, path, case.library)


def _central_force_extras(model, case: Case) -> dict:
    """The paper's exported SymPy form of the network and a Pade attempt."""
    r = case.variable
    t0 = time.perf_counter()
    expr = to_sympy(model, (r,))
    lo, hi = float(case.train.q.min()), float(case.train.q.max())
    mid = 0.5 * (lo + hi)
    approx = pade(expr, r, mid, 3, 3, interval=(lo, hi), target=model.potential)
    short = expr.xreplace({f: sp.Float(f, 4) for f in expr.atoms(sp.Float)})
    return {
        "exported": sp.sstr(short),
        "exported_ops": int(sp.count_ops(expr)),
        "pade": sp.sstr(
            approx.expression.xreplace(
                {f: sp.Float(f, 5) for f in approx.expression.atoms(sp.Float)}
            )
        ),
        "pade_order": [3, 3],
        "pade_center": mid,
        "pade_max_error": approx.max_error,
        "seconds": time.perf_counter() - t0,
    }


def run_case(
    case: Case,
    out: str | Path,
    routes: Sequence[str] = ROUTES,
    progress: Callable[[str], None] | None = print,
    figures: bool = True,
) -> CaseResult:
    """Learn ``case`` by ``routes``, compare with the truth and the paper, draw its figures.

    Models, data and figures go under ``out`` (see the module docstring).
    """
    out = Path(out)
    t0 = time.perf_counter()
    (out / "data").mkdir(parents=True, exist_ok=True)
    case.train.save(out / "data" / f"{case.key}-train.npz")
    if case.test is not None:
        case.test.save(out / "data" / f"{case.key}-test.npz")
    results, models = {}, {}
    for route in routes:
        if route == "force_sindy":
            _say(progress, f"[{case.key}] force-SINDy on {case.train.R} trajectories")
            results[route] = _judge(baseline(case), case, route)
            continue
        _say(
            progress,
            f"[{case.key}] training {ROUTE_TITLES[route]}: {case.trainings[route].describe()}",
        )
        model, training = train_route(case, route, out)
        threshold = case.paper_threshold if route == "paper" else None
        results[route] = _judge(interpret(model, case, threshold), case, route, training)
        models[route] = model
        r = results[route]
        _say(
            progress,
            f"[{case.key}] {ROUTE_TITLES[route]}: {training['wall_time']:.1f} s, "
            f"loss {training['final_loss']:.3e}, max relative error "
            f"{r.max_relative_error:.2e}, true support {r.true_support}",
        )
    truth = {
        _key(t): float(c)
        for t, c in decompose(case.truth, (case.variable,), list(case.library.terms)).items()
        if t != 1
    }
    paper, paper_err = {}, {}
    if case.paper_key is not None:
        row = paper_results()[case.paper_key]
        paper = {_key(paper_term(k, case.variable)): v for k, v in row["paper"].items()}
        paper_err = {
            _key(paper_term(k, case.variable)): v for k, v in row["paper_relative_error"].items()
        }
    extras = {}
    if case.experiment == "central-force" and "paper" in models:
        _say(progress, f"[{case.key}] exporting the paper-faithful network to SymPy, Pade [3/3]")
        extras = _central_force_extras(models["paper"], case)
    result = CaseResult(
        case, truth, paper, paper_err, results, time.perf_counter() - t0, (), extras
    )
    if figures:
        from .report import case_figures

        names = case_figures(result, models, out / "figures")
        result = replace(result, figures=names, wall_time=time.perf_counter() - t0)
    return result


# ---------------------------------------------------------------- the table
def _pct(x) -> str:
    return format_relative_error(x)


def table(results: Sequence[CaseResult]) -> str:
    """The terminal table: each coefficient, the truth, the paper, and every route's error."""
    head = (
        f"{'term':>14s} {'true':>11s} {'paper':>10s} {'paper err':>10s} "
        f"{'faithful':>11s} {'faith err':>10s} {'default':>11s} {'dflt err':>10s} "
        f"{'force-SINDy':>11s} {'fS err':>10s}"
    )
    lines = []
    for res in results:
        lines += ["", f"{res.case.title}  [{res.case.key}]", head]
        terms = list(res.truth)
        for r in res.routes.values():
            terms += [t for t in r.relative_error if t not in terms]
        for t in terms:
            cells = [f"{t:>14s}", f"{res.truth.get(t, 0.0):11.6g}"]
            pv = res.paper.get(t)
            cells += [f"{pv:10.5g}" if pv is not None else f"{'-':>10s}"]
            cells += [f"{_pct(res.paper_relative_error.get(t)):>10s}"]
            for route in ROUTES:
                r = res.routes.get(route)
                if r is None:
                    cells += [f"{'-':>11s}", f"{'-':>10s}"]
                    continue
                cells += [f"{r.coefficients.get(t, 0.0):11.6g}"]
                cells += [f"{_pct(r.relative_error.get(t, 0.0)):>10s}"]
            lines.append(" ".join(cells))
    return "\n".join(lines)


# ---------------------------------------------------------------- everything
def reproduce(
    names: Sequence[str] = ("all",),
    budget: str = "default",
    out: str | Path = "symhamil-results",
    seed: int = 0,
    cases: Sequence[str] | None = None,
    report: bool = True,
    progress: Callable[[str], None] | None = print,
) -> list[CaseResult]:
    """Run experiments and write results.json, the figures and the report to ``out``.

    Parameters
    ----------
    names : sequence of str
        Experiment names (:data:`symhamil.experiments.EXPERIMENTS`) or ``"all"``.
    budget : {"quick", "default", "paper"}
    out : path
    seed : int
        Seeds the generated data (the networks' initialisers are seeded too).
    cases : sequence of str, optional
        Only these case keys (e.g. ``["double_well_T1"]``).
    report : bool
        Write report.tex (and compile it where a LaTeX engine is installed).

    Returns
    -------
    list of CaseResult
    """
    check_budget(budget)
    names = list(EXPERIMENTS) if "all" in names else list(names)
    exps = [experiment(n) for n in names]  # unknown names fail here, before any work
    out = Path(out)
    # Trained models in ``out`` are reused by a later run; they must come from
    # the same budget and the same seeded data. Checked before any work.
    settings = {"budget": budget, "seed": seed}
    marker = out / "run.json"
    if marker.is_file() and json.loads(marker.read_text()) != settings:
        old = json.loads(marker.read_text())
        raise ValueError(
            f"{out} holds a run with budget {old['budget']!r} and seed {old['seed']}, not "
            f"budget {budget!r} and seed {seed}; its models would be reused. Use another "
            "--out, or delete that folder."
        )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(settings))
    t0 = time.perf_counter()
    results = []
    for exp in exps:
        _say(progress, f"== {exp.title} (paper section {exp.section}), budget {budget}")
        for case in exp.cases(budget, seed):
            if cases is not None and case.key not in cases:
                continue
            results.append(run_case(case, out, progress=progress))
    wall = time.perf_counter() - t0
    doc = {
        "symhamil_version": __version__,
        "budget": budget,
        "seed": seed,
        "command": "symhamil reproduce " + " ".join(names) + f" --budget {budget} --seed {seed}",
        "machine": f"{platform.machine()}, {platform.system()}, Python "
        f"{platform.python_version()}",
        "wall_time": wall,
        "cases": {r.case.key: r.to_json() for r in results},
    }
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    _say(progress, table(results))
    _say(progress, f"\nall done in {wall:.1f} s; results in {out / 'results.json'}")
    if report:
        from .report import write_report

        _, _, message = write_report(results, out, budget=budget, wall_time=wall)
        _say(progress, message)
    return results


__all__ = [
    "BUDGETS",
    "RESULTS_SCHEMA",
    "CaseResult",
    "RouteResult",
    "baseline",
    "interpret",
    "reproduce",
    "run_case",
    "table",
    "train_route",
]
