"""Typed, immutable results of a reproduction, and their JSON form.

The runner produces these values; the terminal table, the figures and the
LaTeX report read only them. Everything the report needs - the Hamiltonian and
truth in LaTeX, sampled potential curves, loss histories, threshold paths - is
stored, so ``symhamil report OUT`` re-renders from ``OUT/results.json`` alone,
without TensorFlow or the trained models.

Inside Python, terms are SymPy expressions; strings appear only in JSON, and are
parsed back with :func:`sympy.parsing.sympy_parser.parse_expr` restricted to the
case's variable (no other names, no Python evaluated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import sympy as sp

from ...base.parsing import parse_formula

__all__ = [
    "RESULTS_SCHEMA",
    "CaseResult",
    "Curve",
    "PathStep",
    "RouteResult",
    "RunResult",
    "Training",
    "frozen_array",
    "frozen_map",
]

#: What results.json holds (documented in docs/reports.md; the tests check it).
RESULTS_SCHEMA = {
    "top": ("symhamil_version", "budget", "seed", "command", "machine", "wall_time", "cases"),
    "case": (
        "key",
        "title",
        "experiment",
        "variable",
        "data",
        "system_latex",
        "truth_latex",
        "truth_name",
        "truth_intro",
        "library_latex",
        "truth",
        "paper",
        "paper_relative_error",
        "routes",
        "targets",
        "wall_time",
        "curves",
        "data_range",
        "notes",
    ),
    "route": (
        "route",
        "coefficients",
        "relative_error",
        "max_relative_error",
        "true_support",
        "expression_latex",
        "threshold",
        "residual",
        "path",
        "training",
        "curves",
    ),
}


def frozen_array(x) -> np.ndarray:
    """A read-only float64 copy of ``x``."""
    a = np.array(x, dtype=float)
    a.setflags(write=False)
    return a


def frozen_map(items) -> Mapping:
    """A read-only mapping (a view of a private dict)."""
    return MappingProxyType(dict(items))


_NOT_FINITE = None  # JSON has no inf: a spurious term's relative error is written as null


def _finite(x: float):
    return float(x) if np.isfinite(x) else _NOT_FINITE


def _parse(text: str, variable: sp.Symbol) -> sp.Expr:
    """A term written by :func:`sympy.sstr`, read back with only ``variable`` known.

    Through :func:`symhamil.base.parsing.parse_formula`: no Python in a results file is
    evaluated, and any name but the variable and a few functions is refused.
    """
    return parse_formula(text, [variable], what=f"results.json term in {variable}")


#: LaTeX commands that SymPy's printer and symhamil's own text use; a results file
#: whose LaTeX uses any other (\input, \write, \def, \catcode, ...) is refused.
SAFE_LATEX = frozenset(
    """frac left right cdot sqrt operatorname mathrm rm text log exp sin cos tan sinh cosh
    tanh infty pi quad qquad times dots ldots cdots hat tilde bar dot ddot partial sum prod
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma
    Phi Psi Omega elu mathbf mathit limits""".split()
)
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def safe_latex(text: str, field: str) -> str:
    """``text`` if every LaTeX command in it is on :data:`SAFE_LATEX` (math only)."""
    text = str(text)
    bad = sorted(
        {
            c
            for c in _COMMAND.findall(text)
            if c not in SAFE_LATEX and c not in {",", ";", "!", " ", "{", "}", "\\", "%", "_"}
        }
    )
    if bad or "^^" in text:
        named = ", ".join(chr(92) + c for c in bad) or "^^"
        raise ValueError(
            f"results.json: {field} uses LaTeX that a report never needs ({named}); "
            "refusing to render it."
        )
    return text


def _plain(text: str, field: str, pattern: str = r"[A-Za-z0-9_\-]+") -> str:
    text = str(text)
    if not re.fullmatch(pattern, text):
        raise ValueError(f"results.json: {field} {text!r} is not a plain name.")
    return text


def _terms_to_json(mapping: Mapping) -> dict:
    return {sp.sstr(t): (None if v is None else _finite(v)) for t, v in mapping.items()}


def _terms_from_json(d: dict, variable, default=np.inf) -> Mapping:
    return frozen_map(
        (_parse(k, variable), default if v is None else float(v)) for k, v in d.items()
    )


@dataclass(frozen=True)
class Curve:
    """Sampled values of a potential for a figure (constant already removed).

    Attributes
    ----------
    name : str
        ``"data range"``, ``"extrapolated"``, ``"train points"``, ``"test points"``
        or ``"true"``.
    x, y : ndarray, shape (K,)
        Read-only.
    """

    name: str
    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", frozen_array(self.x))
        object.__setattr__(self, "y", frozen_array(self.y))

    @property
    def points(self) -> bool:
        """Drawn as points (scattered samples) rather than a line."""
        return self.name.endswith("points")

    def to_json(self) -> dict:
        return {"name": self.name, "x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Curve:
        return cls(d["name"], d["x"], d["y"])


@dataclass(frozen=True)
class PathStep:
    """One threshold of the sparse regression's path."""

    threshold: float
    terms: tuple[sp.Expr, ...]
    residual: float


@dataclass(frozen=True)
class Training:
    """How a route's network was trained.

    Attributes
    ----------
    description : str
    recipe : Mapping
        The full recipe (architecture and training settings; the cache key).
    steps, iterations : int
        First-order steps; all iterations (first-order plus L-BFGS-B).
    final_loss, train_loss : float
        Loss at the end of training; the route's loss on all training pairs.
    test_loss : float or None
    loss : str
    wall_time : float
    history : ndarray
        At most about 400 points of the loss curve (read-only).
    """

    description: str
    recipe: Mapping
    steps: int
    iterations: int
    final_loss: float
    train_loss: float
    test_loss: float | None
    loss: str
    wall_time: float
    history: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", frozen_array(self.history))
        object.__setattr__(self, "recipe", _deep_freeze(self.recipe))

    def to_json(self) -> dict:
        return {
            "description": self.description,
            "recipe": _thaw(self.recipe),
            "steps": int(self.steps),
            "iterations": int(self.iterations),
            "final_loss": float(self.final_loss),
            "train_loss": float(self.train_loss),
            "test_loss": None if self.test_loss is None else float(self.test_loss),
            "loss": self.loss,
            "wall_time": float(self.wall_time),
            "history": self.history.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict) -> Training:
        return cls(
            description=str(d["description"]),
            recipe=d["recipe"],
            steps=int(d["steps"]),
            iterations=int(d["iterations"]),
            final_loss=float(d["final_loss"]),
            train_loss=float(d["train_loss"]),
            test_loss=None if d["test_loss"] is None else float(d["test_loss"]),
            loss=str(d["loss"]),
            wall_time=float(d["wall_time"]),
            history=d["history"],
        )


def _deep_freeze(x):
    if isinstance(x, Mapping):
        return MappingProxyType({k: _deep_freeze(v) for k, v in x.items()})
    if isinstance(x, list | tuple):
        return tuple(_deep_freeze(v) for v in x)
    return x


def _thaw(x):
    if isinstance(x, Mapping):
        return {k: _thaw(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return [_thaw(v) for v in x]
    return x


@dataclass(frozen=True)
class RouteResult:
    """One route's recovered potential and how it was obtained.

    Attributes
    ----------
    route : str
        The route's name (see :data:`symhamil.apps.paper.routes.ROUTES`).
    coefficients : Mapping {sympy.Expr: float}
        By library term, in the case's variable; the constant included where fitted.
    relative_error : Mapping {sympy.Expr: float}
        |recovered - true| / |true| per non-constant term of either; inf for a
        spurious term.
    true_support : bool
        The non-constant terms kept are exactly the true ones.
    expression_latex : str
    threshold, residual : float
    path : tuple of PathStep
    training : Training or None
        None for a route without a network.
    curves : tuple of Curve
        The route's potential, sampled for the figures.
    """

    route: str
    coefficients: Mapping
    relative_error: Mapping
    true_support: bool
    expression_latex: str
    threshold: float
    residual: float
    path: tuple[PathStep, ...]
    training: Training | None = None
    curves: tuple[Curve, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefficients", frozen_map(self.coefficients))
        object.__setattr__(self, "relative_error", frozen_map(self.relative_error))
        object.__setattr__(self, "path", tuple(self.path))
        object.__setattr__(self, "curves", tuple(self.curves))

    @property
    def max_relative_error(self) -> float:
        return max(self.relative_error.values(), default=0.0)

    def to_json(self) -> dict:
        return {
            "route": self.route,
            "coefficients": _terms_to_json(self.coefficients),
            "relative_error": _terms_to_json(self.relative_error),
            "max_relative_error": _finite(self.max_relative_error),
            "true_support": self.true_support,
            "expression_latex": self.expression_latex,
            "threshold": self.threshold,
            "residual": self.residual,
            "path": [
                {
                    "threshold": s.threshold,
                    "terms": [sp.sstr(t) for t in s.terms],
                    "residual": s.residual,
                }
                for s in self.path
            ],
            "training": None if self.training is None else self.training.to_json(),
            "curves": [c.to_json() for c in self.curves],
        }

    @classmethod
    def from_json(cls, d: dict, variable: sp.Symbol) -> RouteResult:
        return cls(
            route=_plain(d["route"], "route"),
            coefficients=_terms_from_json(d["coefficients"], variable),
            relative_error=_terms_from_json(d["relative_error"], variable),
            true_support=bool(d["true_support"]),
            expression_latex=safe_latex(d["expression_latex"], "expression_latex"),
            threshold=float(d["threshold"]),
            residual=float(d["residual"]),
            path=tuple(
                PathStep(
                    float(s["threshold"]),
                    tuple(_parse(t, variable) for t in s["terms"]),
                    float(s["residual"]),
                )
                for s in d["path"]
            ),
            training=None if d["training"] is None else Training.from_json(d["training"]),
            curves=tuple(Curve.from_json(c) for c in d["curves"]),
        )


#: The targets of issue 5: symhamil's route within 0.1% with the true support.
SYMHAMIL_TARGET = 1e-3


@dataclass(frozen=True)
class CaseResult:
    """Everything measured on one training set: one table group, one report section.

    Attributes
    ----------
    key, title, experiment : str
    variable : sympy.Symbol
    data : Mapping
        note, train_shape, test_shape, h.
    system_latex, truth_latex, library_latex : str
        The Hamiltonian, the true (or effective) potential and the library, in LaTeX.
    truth_name : str
        ``"V"``, or ``"V_{\\rm eff}"`` for a derived effective potential.
    truth_intro : str
        A sentence introducing the truth in the report ("" for none).
    truth, paper, paper_relative_error : Mapping {sympy.Expr: float}
        Non-constant terms.
    routes : Mapping {str: RouteResult}
    wall_time : float
    curves : tuple of Curve
        The true potential, sampled.
    data_range : (float, float) or None
        The range of the variable covered by the training data.
    notes : Mapping {str: str}
        Extra findings for the report, e.g. the exported network (``"export"``)
        and its Pade form (``"pade"``).
    """

    key: str
    title: str
    experiment: str
    variable: sp.Symbol
    data: Mapping
    system_latex: str
    truth_latex: str
    truth_name: str
    truth_intro: str
    library_latex: str
    truth: Mapping
    paper: Mapping
    paper_relative_error: Mapping
    routes: Mapping
    wall_time: float
    curves: tuple[Curve, ...] = ()
    data_range: tuple[float, float] | None = None
    notes: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("truth", "paper", "paper_relative_error", "routes"):
            object.__setattr__(self, name, frozen_map(getattr(self, name)))
        object.__setattr__(self, "data", _deep_freeze(dict(self.data)))
        object.__setattr__(self, "notes", _deep_freeze(dict(self.notes)))
        object.__setattr__(self, "curves", tuple(self.curves))
        if self.data_range is not None:
            object.__setattr__(self, "data_range", tuple(float(v) for v in self.data_range))

    @property
    def targets(self) -> Mapping:
        """Which of issue 5's targets this case meets (None: not applicable)."""
        faithful = self.routes.get("faithful")
        paper_ok = None
        if self.paper_relative_error and faithful is not None:
            paper_ok = faithful.true_support and all(
                faithful.relative_error.get(t, np.inf) <= e
                for t, e in self.paper_relative_error.items()
            )
        ours = self.routes.get("symhamil")
        return frozen_map(
            {
                "faithful_at_least_as_close_as_paper": paper_ok,
                "symhamil_within_0.1_percent_true_support": None
                if ours is None
                else bool(ours.true_support and ours.max_relative_error <= SYMHAMIL_TARGET),
            }
        )

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "experiment": self.experiment,
            "variable": str(self.variable),
            "variable_positive": bool(self.variable.is_positive),
            "data": _thaw(self.data),
            "system_latex": self.system_latex,
            "truth_latex": self.truth_latex,
            "truth_name": self.truth_name,
            "truth_intro": self.truth_intro,
            "library_latex": self.library_latex,
            "truth": _terms_to_json(self.truth),
            "paper": _terms_to_json(self.paper),
            "paper_relative_error": _terms_to_json(self.paper_relative_error),
            "routes": {k: r.to_json() for k, r in self.routes.items()},
            "targets": dict(self.targets),
            "wall_time": self.wall_time,
            "curves": [c.to_json() for c in self.curves],
            "data_range": None if self.data_range is None else list(self.data_range),
            "notes": _thaw(self.notes),
        }

    @classmethod
    def from_json(cls, d: dict) -> CaseResult:
        name = str(d["variable"])
        if not name.isidentifier():
            raise ValueError(f"results.json: the variable {name!r} is not a plain name.")
        variable = sp.Symbol(name, positive=True) if d["variable_positive"] else sp.Symbol(name)
        notes = {k: str(v) for k, v in dict(d["notes"]).items()}
        for k, v in notes.items():
            if "\\" in v:  # printed inside verbatim: a backslash could end it
                raise ValueError(f"results.json: note {k!r} contains a backslash.")
        return cls(
            key=_plain(d["key"], "case key"),
            title=str(d["title"]),
            experiment=str(d["experiment"]),
            variable=variable,
            data=d["data"],
            system_latex=safe_latex(d["system_latex"], "system_latex"),
            truth_latex=safe_latex(d["truth_latex"], "truth_latex"),
            truth_name=safe_latex(d["truth_name"], "truth_name"),
            truth_intro=safe_latex(d["truth_intro"], "truth_intro"),
            library_latex=safe_latex(d["library_latex"], "library_latex"),
            truth=_terms_from_json(d["truth"], variable),
            paper=_terms_from_json(d["paper"], variable),
            paper_relative_error=_terms_from_json(d["paper_relative_error"], variable),
            routes={k: RouteResult.from_json(r, variable) for k, r in d["routes"].items()},
            wall_time=float(d["wall_time"]),
            curves=tuple(Curve.from_json(c) for c in d["curves"]),
            data_range=None if d["data_range"] is None else tuple(d["data_range"]),
            notes=notes,
        )


@dataclass(frozen=True)
class RunResult:
    """A whole reproduction: the settings and every case, as in results.json."""

    symhamil_version: str
    budget: str
    seed: int
    command: str
    machine: str
    wall_time: float
    cases: tuple[CaseResult, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", tuple(self.cases))

    def to_json(self) -> dict:
        return {
            "symhamil_version": self.symhamil_version,
            "budget": self.budget,
            "seed": self.seed,
            "command": self.command,
            "machine": self.machine,
            "wall_time": self.wall_time,
            "cases": {c.key: c.to_json() for c in self.cases},
        }

    @classmethod
    def from_json(cls, d: dict) -> RunResult:
        return cls(
            symhamil_version=str(d["symhamil_version"]),
            budget=_plain(d["budget"], "budget", r"quick|default|paper"),
            seed=int(d["seed"]),
            command=str(d["command"]),
            machine=str(d["machine"]),
            wall_time=float(d["wall_time"]),
            cases=tuple(CaseResult.from_json(c) for c in d["cases"].values()),
        )
