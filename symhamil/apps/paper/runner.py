"""Run the paper's experiments: learn each case by every route, write the results.

:func:`run_case` learns one :class:`~.experiments.Case` and returns a frozen
:class:`~.results.CaseResult`; :func:`reproduce` runs experiments, writes
``results.json``, the figures and the LaTeX report to a folder, and prints the
coefficient table; :func:`render` re-renders the figures and the report from a
folder's ``results.json`` alone. ``symhamil reproduce`` and ``symhamil report``
are their command lines.

Layout of the output folder::

    results.json                 every number, and the curves the figures draw
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
from pathlib import Path

import numpy as np
import sympy as sp

from ... import __version__
from ...base.files import LOAD_ERRORS, describe, real_folder, write_json
from ...base.schema import Mapping, Number, Text, read_document
from .experiments import EXPERIMENTS, Case, check_budget, experiment, paper_results, paper_term
from .report import write_report
from .results import CaseResult, Curve, RunResult
from .routes import CURVE_POINTS, ROUTES, plot_grid, route, truth_terms, truth_values
from .tables import terminal_table

__all__ = ["render", "reproduce", "run_case"]


def _quiet(_: str) -> None:
    pass


def run_case(
    case: Case,
    out: str | Path,
    routes: Sequence[str] = tuple(ROUTES),
    seed: int = 0,
    progress: Callable[[str], None] | None = print,
) -> CaseResult:
    """Learn ``case`` by ``routes`` and compare with the truth and the paper.

    Models and data go under ``out`` (see the module docstring).
    """
    say = progress or _quiet
    chosen = [route(n) for n in routes]  # unknown names fail here, before any work
    out = Path(out)
    t0 = time.perf_counter()
    real_folder(out, "data")  # inside out, not a link
    case.train.save(out / "data" / f"{case.key}-train.npz")
    if case.test is not None:
        case.test.save(out / "data" / f"{case.key}-test.npz")
    results, notes = {}, {}
    for r in chosen:
        results[r.name], more = r.learn(case, out, seed, say)
        notes |= more
    var = case.variable
    paper, paper_err = {}, {}
    if case.paper_key is not None:
        row = paper_results()[case.paper_key]
        paper = {paper_term(k, var): v for k, v in row["paper"].items()}
        paper_err = {paper_term(k, var): v for k, v in row["paper_relative_error"].items()}
    if case.train.dim == 1:
        grid, inside = plot_grid(case)
        data_range = (float(grid[inside].min()), float(grid[inside].max()))
    else:
        # A pair potential: the truth from near contact out to the farthest pair seen.
        seen = max(
            (float(c.x.max()) for res in results.values() for c in res.curves),
            default=float(case.to_variable(case.sample_points()).max()),
        )
        grid, data_range = np.linspace(0.2, seen, CURVE_POINTS), None
    curves = (Curve("true", grid, truth_values(case, grid)),)
    return CaseResult(
        key=case.key,
        title=case.title,
        experiment=case.experiment,
        variable=var,
        data={
            "note": case.note,
            "train_shape": list(case.train.q.shape),
            "test_shape": None if case.test is None else list(case.test.q.shape),
            "h": case.train.h,
        },
        system_latex=sp.latex(case.system.H),
        truth_latex=sp.latex(case.truth),
        truth_name=case.truth_name,
        truth_intro=case.truth_intro,
        library_latex=sp.latex(list(case.library.terms)),
        truth=truth_terms(case),
        paper=paper,
        paper_relative_error=paper_err,
        routes=results,
        wall_time=time.perf_counter() - t0,
        curves=curves,
        data_range=data_range,
        notes=notes,
    )


def _claim(out: Path, budget: str, seed: int) -> None:
    """Trained models in ``out`` are reused by a later run; they must come from the
    same budget and the same seeded data. Checked before any work."""
    settings = {"budget": budget, "seed": seed}
    marker = out / "run.json"
    if marker.is_file():
        try:
            old = json.loads(marker.read_text())
        except ValueError as exc:
            raise ValueError(
                f"{marker} is damaged ({exc}); it records which budget and seed own {out}. "
                "Delete it only if the folder's models are from this budget and seed."
            ) from None
        if not isinstance(old, dict):
            old = {}
        if old != settings:
            raise ValueError(
                f"{out} holds a run with budget {old.get('budget')!r} and seed "
                f"{old.get('seed')}, not budget {budget!r} and seed {seed}; its models would "
                "be reused. Use another --out, or delete that folder."
            )
    write_json(marker, settings)


def reproduce(
    names: Sequence[str] = ("all",),
    budget: str = "default",
    out: str | Path = "symhamil-results",
    seed: int = 0,
    cases: Sequence[str] | None = None,
    report: bool = True,
    progress: Callable[[str], None] | None = print,
) -> RunResult:
    """Run experiments and write results.json, the figures and the report to ``out``.

    Parameters
    ----------
    names : sequence of str
        Experiment names (:data:`~.experiments.EXPERIMENTS`) or ``"all"``.
    budget : {"quick", "default", "paper"}
    out : path
    seed : int
        Seeds the generated data and the networks' initial weights.
    cases : sequence of str, optional
        Only these case keys (e.g. ``["double_well_T1"]``).
    report : bool
        Draw the figures and write report.tex (compiled where a LaTeX engine is
        installed).

    Returns
    -------
    RunResult
    """
    say = progress or _quiet
    check_budget(budget)
    names = list(EXPERIMENTS) if "all" in names else list(names)
    exps = [experiment(n) for n in names]  # unknown names fail here, before any work
    out = Path(out)
    _claim(out, budget, seed)
    t0 = time.perf_counter()
    results = []
    for exp in exps:
        say(f"== {exp.title} (paper section {exp.section}), budget {budget}")
        for case in exp.cases(budget, seed):
            if cases is None or case.key in cases:
                results.append(run_case(case, out, seed=seed, progress=progress))
    # Results accumulate: cases of earlier runs into this folder (same budget and
    # seed, see _claim) that this run did not redo stay in results.json and the report.
    previous = _previous_cases(out)
    mine = {r.key for r in results}
    results = [c for c in previous if c.key not in mine] + results
    run = RunResult(
        symhamil_version=__version__,
        budget=budget,
        seed=seed,
        command="symhamil reproduce " + " ".join(names) + f" --budget {budget} --seed {seed}",
        machine=f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        wall_time=time.perf_counter() - t0,
        cases=tuple(results),
    )
    write_json(out / "results.json", run.to_json())
    say(terminal_table(run.cases))
    say(f"\nall done in {run.wall_time:.1f} s; results in {out / 'results.json'}")
    if report:
        say(write_report(run, out)[2])
    return run


#: The outline of a reproduction's results.json, checked before it is read.
RUN_SCHEMA = {
    "symhamil_version": Text(100),
    "budget": Text(20),
    "seed": Number(lo=0, whole=True),
    "command": Text(2_000),
    "machine": Text(2_000),
    "wall_time": Number(lo=0),
    "cases": Mapping(
        {"key": Text(64), "title": Text(200), "routes": Mapping(dict, limit=20)}, limit=100
    ),
}


def _previous_cases(out: Path) -> list[CaseResult]:
    if not (out / "results.json").is_file():
        return []
    try:
        return list(load_results(out).cases)
    except ValueError:
        return []  # an unreadable old file is replaced, not merged


def load_results(out: str | Path) -> RunResult:
    """The :class:`~.results.RunResult` stored in ``out/results.json``."""
    path = Path(out) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no results.json; run `symhamil reproduce --out {out}` first."
        )
    doc = read_document(path, RUN_SCHEMA)
    try:
        return RunResult.from_json(doc)
    except LOAD_ERRORS as exc:
        raise ValueError(f"{path} is not a readable results file ({describe(exc)}).") from None


def render(out: str | Path, compile: bool = True) -> tuple[Path, Path | None, str]:
    """Draw the figures and write the report again from ``out/results.json`` alone."""
    return write_report(load_results(out), out, compile=compile)
