"""The paper reproduction: an application built on the symhamil library.

Bhat, "Learning and Interpreting Potentials for Classical Hamiltonian Systems",
section 3, reproduced end to end. The library never imports this package.

Rooms: ``experiments`` (the four experiments as frozen declarations, data
built lazily), ``models`` (network recipes, training, the model cache),
``routes`` (the three ways of learning a case, as objects), ``results`` (typed,
immutable results and their JSON), ``tables``, ``figures`` and ``report``
(written from stored results alone), ``runner`` (``reproduce`` and ``render``).

>>> from symhamil.apps.paper import reproduce            # doctest: +SKIP
>>> run = reproduce(["sho"], budget="quick", out="results")  # doctest: +SKIP
"""

from .experiments import BUDGETS, EXPERIMENTS, Case, CaseData, Experiment, experiment
from .models import Recipe
from .report import build_pdf, write_report
from .results import RESULTS_SCHEMA, CaseResult, Curve, RouteResult, RunResult, Training
from .routes import ROUTES, Route, route
from .runner import load_results, render, reproduce, run_case
from .tables import terminal_table

__all__ = [
    "BUDGETS",
    "EXPERIMENTS",
    "RESULTS_SCHEMA",
    "ROUTES",
    "Case",
    "CaseData",
    "CaseResult",
    "Curve",
    "Experiment",
    "Recipe",
    "Route",
    "RouteResult",
    "RunResult",
    "Training",
    "build_pdf",
    "experiment",
    "load_results",
    "render",
    "reproduce",
    "route",
    "run_case",
    "terminal_table",
    "write_report",
]
