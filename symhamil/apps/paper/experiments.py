"""The paper's experiments (section 3), declared as frozen values.

Declaring runs nothing: an :class:`Experiment` builds its :class:`Case` values
for a budget, and each case loads or simulates its data only when it is first
asked for (``case.train``). Budgets:

``quick``
    seconds per case, for CI and a first look;
``default``
    what a user runs: every coefficient of symhamil's route within 0.1%;
``paper``
    the paper's data sizes and step counts (gradient descent at the paper's
    learning rates for the faithful route); hours of CPU time.

How each case is learned is the routes' business (:mod:`.routes`); a case only
carries a :class:`~.models.Recipe` per network route.

To add an experiment: write a function ``(budget, seed) -> tuple of Case`` and
add an :class:`Experiment` to :data:`EXPERIMENTS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import sympy as sp

from ... import datasets
from ...base.parsing import parse_formula
from ...data.trajectories import Trajectories
from ...learning.training import TrainingSpec
from ...sindy import Library
from ...systems import catalog
from ...systems.reduce import effective_potential, reduce_radial
from ...systems.simulate import simulate
from .models import Recipe

__all__ = ["BUDGETS", "EXPERIMENTS", "Case", "CaseData", "Experiment", "experiment"]

BUDGETS = ("quick", "default", "paper")


class CaseData(NamedTuple):
    """What a case's data loader returns.

    ``truth`` and ``note`` override the declared ones where they depend on the
    data (the central force's l is measured from the simulated trajectory).
    """

    train: Trajectories
    test: Trajectories | None = None
    truth: sp.Expr | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Case:
    """One training set of an experiment, with everything needed to learn and judge it.

    Attributes
    ----------
    key : str
        Identifier, e.g. ``"double_well_T1"``; also the key in results.json.
    title : str
    experiment : str
        The experiment's name (``"sho"``, ``"double-well"``, ...).
    system : System
        What generated the data (for the report's Hamiltonian).
    load : callable, () -> CaseData
        Builds the data; called once, on first use of ``train``.
    variable : sympy.Symbol
        The library's variable (q, or r for radial and pair potentials).
    library : Library
        In ``variable``.
    truth : sympy.Expr
        The true (or effective) potential in ``variable`` (the data may refine it).
    truth_name : str
        LaTeX name of the truth: ``"V"``, or ``"V_{\\rm eff}"`` for a derived one.
    truth_intro : str
        A sentence (LaTeX) introducing the truth in the report, or "".
    to_variable : callable
        Maps positions (K, d) to the library variable, shape (K, 1).
    force_library : Library
        The same terms, in order, as functions of the trajectories' coordinates
        (for force-SINDy on the raw data).
    paper_key : str or None
        Key in the paper's results (``paper_results.json``).
    paper_threshold : float
    recipes : Mapping {route name: Recipe}
    data_note : str
    plot_range : (float, float) or None
        Range of ``variable`` for the potential figure.
    export_network : bool
        Export the faithful network to SymPy and try a Pade form (the paper did
        so for the central force).
    """

    key: str
    title: str
    experiment: str
    system: object
    load: Callable[[], CaseData]
    variable: sp.Symbol
    library: Library
    truth_declared: sp.Expr
    to_variable: Callable[[np.ndarray], np.ndarray]
    force_library: Library
    paper_key: str | None
    paper_threshold: float
    recipes: Mapping = field(default_factory=dict)
    data_note: str = ""
    truth_name: str = "V"
    truth_intro: str = ""
    plot_range: tuple[float, float] | None = None
    export_network: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "recipes", MappingProxyType(dict(self.recipes)))

    @cached_property
    def _data(self) -> CaseData:
        return self.load()

    @property
    def train(self) -> Trajectories:
        return self._data.train

    @property
    def test(self) -> Trajectories | None:
        return self._data.test

    @property
    def truth(self) -> sp.Expr:
        return self._data.truth if self._data.truth is not None else self.truth_declared

    @property
    def note(self) -> str:
        return self._data.note if self._data.note is not None else self.data_note

    def sample_points(self, n: int = 2000) -> np.ndarray:
        """About ``n`` training positions, evenly spread along the data, shape (K, d)."""
        x = self.train.q.reshape(-1, self.train.dim)
        return x[:: max(1, len(x) // n)]


@dataclass(frozen=True)
class Experiment:
    """A named experiment of the paper: its section, and the cases it declares for a budget."""

    name: str
    title: str
    section: str
    build: Callable[[str, int], tuple[Case, ...]]

    def cases(self, budget: str = "default", seed: int = 0) -> tuple[Case, ...]:
        """The cases at ``budget`` (one of :data:`BUDGETS`), data seeded by ``seed``."""
        check_budget(budget)
        return self.build(budget, seed)


def check_budget(budget: str) -> None:
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}.")


@cache
def paper_results() -> dict:
    """The paper's coefficients and errors (section 3), as shipped with symhamil."""
    path = resources.files(__package__) / "paper_results.json"
    return json.loads(path.read_text())["experiments"]


def paper_term(name: str, variable: sp.Symbol) -> sp.Expr:
    """A term of paper_results.json (``"q**2"``, ``"(10-r)**-1"``) as SymPy, in ``variable``."""
    return parse_formula(name, [variable], what=f"results.json term in {variable}")


# ---------------------------------------------------------------- recipes by budget
def _spec(budget: str, quick: dict, default: dict, paper: dict, **common) -> TrainingSpec:
    return TrainingSpec(**common, **{"quick": quick, "default": default, "paper": paper}[budget])


#: symhamil's route stops L-BFGS-B when it gains less than this fraction over 100
#: iterations. Tighter than fit's default (1e-3): these are exact data, on which
#: the loss keeps falling slowly and every digit of the coefficients counts.
SYMHAMIL_LBFGS_TOL = 1e-4


def _symhamil(budget: str, stride: int, **arch) -> Recipe:
    """symhamil's own route: midpoint loss, tanh, the budget's Adam steps, then L-BFGS-B
    until it stops gaining (its count is a maximum).

    All the Adam steps are run (no plateau handover): on these exact data a
    longer warm start measurably helps the last digits (the Coulomb
    architecture 1: 3.1e-4 with 500 steps against 1.1e-3 after a handover at 300).
    """
    spec = _spec(
        budget,
        quick={"steps": 200, "lbfgs_steps": 300, "stride": 2 * stride},
        default={"steps": 500, "lbfgs_steps": 1000, "stride": stride},
        paper={"steps": 5000, "lbfgs_steps": 10000, "stride": 1},
        loss="midpoint",
        lbfgs_tol=SYMHAMIL_LBFGS_TOL,
        handover=None,
    )
    return Recipe(training=spec, **arch)


def _faithful(budget: str, stride: int, paper_steps: int, paper_lr: float, **arch) -> Recipe:
    """The paper's loss (3) and architecture; at the paper budget its GD and step count."""
    window = arch.pop("window", None)
    spec = _spec(
        budget,
        quick={"steps": 200, "lbfgs_steps": 300, "stride": 2 * stride},
        default={"steps": 500, "lbfgs_steps": 1000, "stride": stride},
        paper={"steps": paper_steps, "optimizer": "gd", "learning_rate": paper_lr, "stride": 1},
        loss="forward",
        window=window,
    )
    return Recipe(training=spec, **arch)


def _identity(x):
    return np.asarray(x).reshape(-1, 1)


def _poly_case(*, key, paper_key, title, experiment, system, load, degree, recipes, note, plot):
    q = sp.Symbol("q")
    lib = Library.polynomial((q,), degree)
    return Case(
        key=key,
        title=title,
        experiment=experiment,
        system=system,
        load=load,
        variable=q,
        library=lib,
        truth_declared=system.V.subs(system.coords[0], q),
        to_variable=_identity,
        force_library=lib,
        paper_key=paper_key,
        paper_threshold=paper_results()[paper_key]["threshold"],
        recipes=recipes,
        data_note=note,
        plot_range=plot,
    )


# ---------------------------------------------------------------- the experiments
def _sho(budget: str, seed: int) -> tuple[Case, ...]:
    case = _poly_case(
        key="harmonic_oscillator",
        paper_key="harmonic_oscillator",
        title="Harmonic oscillator",
        experiment="sho",
        system=catalog.harmonic_oscillator(),
        load=lambda: CaseData(datasets.harmonic_circles(R=10, h=0.01, steps=1000)),
        degree=3,
        recipes={
            "faithful": _faithful(budget, 5, 50000, 0.01),
            "symhamil": _symhamil(budget, 5),
        },
        note="Exact solutions: 10 circles through (q, p) = (0, i), i = 1..10, "
        "h = 0.01, 1000 steps each.",
        plot=(-15.0, 15.0),
    )
    return (case,)


def _find(traj: Trajectories, starts) -> list[int]:
    """Indices of the trajectories starting at the given (q, p)."""
    q0, p0 = traj.q[:, 0, 0], traj.p[:, 0, 0]
    return [int(np.flatnonzero(np.isclose(q0, a) & np.isclose(p0, b))[0]) for a, b in starts]


_DW_POINTS = 5001


def _t1() -> Trajectories:
    return datasets.bhat2019("double_well_T1").head(_DW_POINTS)


def _regenerated() -> Trajectories:
    t1 = _t1()
    system = catalog.double_well()
    return simulate(system, t1.q[:, 0], t1.p[:, 0], h=t1.h, steps=_DW_POINTS - 1, method="rk")


def _t3() -> Trajectories:
    t1 = _t1()
    return t1.select(_find(t1, [(-0.15, -0.48), (-0.59, -0.92)]))


def _double_well(budget: str, seed: int) -> tuple[Case, ...]:
    sets = [
        (
            "double_well_T1",
            "Double well, T1 (the author's ten trajectories)",
            _t1,
            "the author's published T1: ten trajectories",
        ),
        (
            "double_well_T1_regenerated",
            "Double well, T1 regenerated by symhamil",
            _regenerated,
            "T1's ten initial conditions, integrated by symhamil (DOP853, rtol = atol = 1e-12)",
        ),
        (
            "double_well_T2",
            "Double well, T2 (one trajectory in each well)",
            lambda: datasets.bhat2019("double_well_pair").head(_DW_POINTS),
            "the author's pair from (0.9, 0) and (1.1, 0), one in each well",
        ),
        (
            "double_well_T3",
            "Double well, T3 (left well only)",
            _t3,
            "T1's trajectories from (-0.15, -0.48) and (-0.59, -0.92), left well only",
        ),
    ]
    cases = []
    for key, title, load, what in sets:
        cases.append(
            _poly_case(
                key=key,
                # The regenerated set shares T1's paper row.
                paper_key="double_well_T1" if key == "double_well_T1_regenerated" else key,
                title=title,
                experiment="double-well",
                system=catalog.double_well(),
                load=lambda load=load: CaseData(load()),
                degree=6,
                recipes={
                    "faithful": _faithful(budget, 10, 50000, 0.01),
                    "symhamil": _symhamil(budget, 10),
                },
                note=f"{what}; {_DW_POINTS} points each at h = 0.001.",
                plot=(-1.0, 3.0),
            )
        )
    return tuple(cases)


def _central_recipes(budget: str) -> dict[str, Recipe]:
    # The paper's recipe: elu, then softplus with exponential output, warm-started.
    # At the paper's rate 1e-3, Adam needs thousands of steps before L-BFGS-B can
    # take over from the warm start: no plateau handover there.
    stage2 = Recipe(
        hidden=(16, 16),
        activation="softplus",
        output="exponential",
        training=_spec(
            budget,
            quick={"steps": 1000, "lbfgs_steps": 500, "stride": 20},
            default={"steps": 3000, "lbfgs_steps": 1500, "stride": 10},
            paper={"steps": 500000, "optimizer": "gd", "stride": 1},
            loss="forward",
            learning_rate=1e-3,
            handover=None,
        ),
    )
    stage1 = _faithful(budget, 10, 500000, 1e-3, activation="elu")
    return {
        "faithful": replace(stage1, then=stage2, center=True),
        "symhamil": _symhamil(budget, 10),
    }


def _radial_case(*, key, title, load, ell2_half, note, budget, paper_key) -> Case:
    system = catalog.central_force(L=10)
    r = sp.Symbol("r", positive=True)
    lib = Library.inverse_powers(r, 3) | Library.shifted_inverse_powers(r, 10, 3)
    return Case(
        key=key,
        title=title,
        experiment="central-force",
        system=system,
        load=load,
        variable=r,
        library=lib,
        truth_declared=_veff(ell2_half) if ell2_half is not None else sp.nan,
        truth_name="V_{\\rm eff}",
        truth_intro="Reduced to the radial coordinate, the derived effective potential is",
        to_variable=_identity,
        force_library=lib,
        paper_key=paper_key,
        paper_threshold=paper_results()["central_force"]["threshold"],
        recipes=_central_recipes(budget),
        data_note=note,
        plot_range=(0.5, 9.8),
        export_network=True,
    )


def _veff(ell2_half: float) -> sp.Expr:
    veff = effective_potential(catalog.central_force(L=10), sp.sqrt(2 * sp.Float(ell2_half)))
    (r,) = veff.free_symbols
    return veff.subs(r, sp.Symbol("r", positive=True))


def _simulated_radial(seed: int) -> CaseData:
    system = catalog.central_force(L=10)
    x0 = np.random.default_rng(seed).uniform(-1, 1, size=(1, 6))
    traj3d = simulate(system, x0[:, :3], x0[:, 3:], h=0.001, steps=20000, method="rk")
    radial, ell = reduce_radial(traj3d)
    l2 = float(ell[0]) ** 2 / 2
    note = (
        f"One trajectory from uniform random initial conditions in [-1, 1]^6 (seed {seed}), "
        "t = 0..20, h = 0.001, integrated by DOP853 and reduced to (r, dr/dt); "
        f"l^2/2 = {l2:.6f} from the data."
    )
    return CaseData(radial, None, _veff(l2), note)


def _central_force(budget: str, seed: int) -> tuple[Case, ...]:
    l2 = datasets.CENTRAL_FORCE_RADIAL_L2_HALF
    authors = _radial_case(
        key="central_force",
        title="Central force, the author's radial trajectory 0",
        load=lambda: CaseData(datasets.bhat2019("central_force_radial").select([0])),
        ell2_half=l2,
        note="The author's published radial trajectory 0, (r, dr/dt), 20001 points at "
        f"h = 0.001; l^2/2 = {l2} as published.",
        budget=budget,
        paper_key="central_force",
    )
    ours = _radial_case(
        key="central_force_simulated",
        title="Central force, symhamil's own trajectory",
        load=lambda: _simulated_radial(seed),
        ell2_half=None,
        note="",
        budget=budget,
        paper_key=None,
    )
    return authors, ours


#: (trajectories, saved steps) of the Coulomb data by budget; 80% train, 20% test.
#: Below the paper's size, many short trajectories cover r better than a few
#: long ones (measured: 200 x 251 points gave 10x smaller errors than 80 x 501).
COULOMB_SIZES = MappingProxyType(
    {"quick": (40, 250), "default": (250, 250), "paper": (1000, 10000)}
)


def _coulomb_data(budget: str, seed: int) -> CaseData:
    system = catalog.coulomb_pair()
    R, N = COULOMB_SIZES[budget]
    rng = np.random.default_rng(seed)
    data = simulate(
        system,
        rng.standard_normal((R, 6)),
        rng.standard_normal((R, 6)),
        h=0.001,
        steps=N,
        method="verlet",
        substeps=10,
        drop_above=1e-4,
    )
    n_train = round(0.8 * data.R)
    train, test = data.select(range(n_train)), data.select(range(n_train, data.R))
    note = (
        f"{R} trajectories from standard-normal initial conditions (seed {seed}), "
        f"Stormer-Verlet with 10 substeps, h = 0.001, {N + 1} points each; "
        f"{data.R} kept (energy error < 1e-4), {train.R} for training, {test.R} held out. "
        "The paper used 1000 trajectories of 10001 points, 800 for training."
    )
    return CaseData(train, test, None, note)


def _distance(x) -> np.ndarray:
    x = np.asarray(x).reshape(-1, 6)
    return np.linalg.norm(x[:, :3] - x[:, 3:], axis=1)[:, None]


def _coulomb(budget: str, seed: int) -> tuple[Case, ...]:
    system = catalog.coulomb_pair()
    r = sp.Symbol("r", positive=True)
    lib = Library.inverse_powers(r, 3)
    q1, q2 = system.coords[:3], system.coords[3:]
    dist = sp.sqrt(sum((a - b) ** 2 for a, b in zip(q1, q2, strict=True)))
    force_lib = Library((1, *(dist**-k for k in range(1, 4))), system.coords)
    data = cache(lambda: _coulomb_data(budget, seed))  # one data set for both cases
    cases = []
    for key, features, width, paper_lr, window, title in (
        (
            "coulomb_difference_input",
            "difference",
            16,
            0.01,
            100,
            "Two charged particles, architecture 1 (input q1 - q2)",
        ),
        (
            "coulomb_distance_input",
            "distance",
            8,
            0.05,
            None,
            "Two charged particles, architecture 2 (input |q1 - q2|)",
        ),
    ):
        arch = {"features": features, "hidden": (width,) * 8}
        steps = 500000 if window else 50000
        cases.append(
            Case(
                key=key,
                title=title,
                experiment="coulomb",
                system=system,
                load=data,
                variable=r,
                library=lib,
                truth_declared=system.V.subs(dist, r),
                truth_intro="In $r = |q_1 - q_2|$ the potential is",
                to_variable=_distance,
                force_library=force_lib,
                paper_key=key,
                paper_threshold=paper_results()[key]["threshold"],
                recipes={
                    "faithful": _faithful(budget, 10, steps, paper_lr, window=window, **arch),
                    "symhamil": _symhamil(budget, 10, **arch),
                },
                data_note="",
            )
        )
    return tuple(cases)


EXPERIMENTS: Mapping[str, Experiment] = MappingProxyType(
    {
        e.name: e
        for e in (
            Experiment("sho", "Harmonic oscillator", "3.1", _sho),
            Experiment("double-well", "Double-well potential", "3.2", _double_well),
            Experiment(
                "central-force", "Central force in 3-D, reduced to r", "3.3", _central_force
            ),
            Experiment("coulomb", "Two charged particles", "3.4", _coulomb),
        )
    }
)


def experiment(name: str) -> Experiment:
    """The experiment called ``name`` (one of :data:`EXPERIMENTS`)."""
    if name not in EXPERIMENTS:
        raise ValueError(
            f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} or 'all'."
        )
    return EXPERIMENTS[name]
