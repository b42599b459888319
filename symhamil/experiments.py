"""The paper's experiments (section 3) as declared, frozen specs.

An :class:`Experiment` builds its :class:`Case` objects for a budget:

``quick``
    seconds per case, for CI and a first look;
``default``
    what a user runs: every coefficient of symhamil's route within 0.1%;
``paper``
    the paper's data sizes and step counts (gradient descent at the paper's
    learning rates for the paper-faithful route); hours of CPU time.

Each case is learned three ways (the *routes*):

``paper``
    paper-faithful: the forward-difference loss (3), the paper's architecture
    and recipe, SINDy at the paper's fixed threshold;
``default``
    symhamil's default: the midpoint loss, a float64 tanh network, Adam then
    L-BFGS-B, and the threshold protocol of :func:`symhamil.sindy`;
``force_sindy``
    the network-free baseline, :func:`symhamil.force_sindy` (midpoint).

The runner lives in :mod:`symhamil.reproduce`; this module only declares.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np
import sympy as sp

from . import catalog, datasets
from .reduce import effective_potential, reduce_radial
from .simulate import simulate
from .sindy import Library
from .trajectories import Trajectories

BUDGETS = ("quick", "default", "paper")
ROUTES = ("paper", "default", "force_sindy")
ROUTE_TITLES = {
    "paper": "paper-faithful",
    "default": "symhamil default",
    "force_sindy": "force-SINDy",
}


@dataclass(frozen=True)
class Training:
    """How one network is built and trained (arguments of ``NeuralPotential`` and ``fit``).

    ``then`` is a second stage warm-started from the first with a changed
    activation and output (the paper's central-force recipe); ``center``
    rescales the output layer at the switch so the pre-exponential output has
    mean 0 and range 0.5 over the data (exp of an unscaled V overflows).
    """

    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    features: str = "identity"
    output: str = "linear"
    loss: str = "midpoint"
    optimizer: str = "adam+lbfgs"
    steps: int = 500
    lbfgs_steps: int = 1000
    learning_rate: float | None = None
    stride: int = 1
    window: int | None = None
    then: Training | None = None
    center: bool = False

    def describe(self) -> str:
        """One line: architecture, loss, optimiser and steps."""
        arch = f"{self.features} input, {len(self.hidden)} x {self.hidden[0]} {self.activation}"
        if self.output != "linear":
            arch += f", {self.output} output"
        opt = self.optimizer.replace("+", " + ")
        steps = f"{self.steps} steps" + (
            f" + {self.lbfgs_steps} L-BFGS-B" if "lbfgs" in self.optimizer else ""
        )
        lr = f", lr {self.learning_rate:g}" if self.learning_rate else ""
        extra = f", stride {self.stride}" if self.stride > 1 else ""
        if self.window:
            extra += f", windows of {self.window} points"
        text = f"{arch}; {self.loss} loss; {opt}{lr}, {steps}{extra}"
        if self.then is not None:
            text += "; then " + self.then.describe()
        return text

    def fit_kwargs(self) -> dict:
        """Keyword arguments of ``NeuralPotential.fit``."""
        kw = {
            "steps": self.steps,
            "loss": self.loss,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "lbfgs_steps": self.lbfgs_steps,
            "stride": self.stride,
        }
        if self.window:
            kw["window"] = self.window
        return kw


@dataclass(frozen=True, eq=False)
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
    train, test : Trajectories
        q, p of shape (R, N+1, d); ``test`` may be None.
    variable : sympy.Symbol
        The library's variable (q, or r for radial and pair potentials).
    library : Library
        In ``variable``.
    truth : sympy.Expr
        The true (or effective) potential in ``variable``.
    to_variable : callable
        Maps positions (K, d) to the library variable, shape (K, 1).
    force_library : Library
        The same terms, in order, as functions of the trajectories' coordinates
        (for force-SINDy on the raw data).
    paper_key : str or None
        Key in the paper's results (``paper_results.json``).
    paper_threshold : float
    trainings : dict {route: Training}
    data_note : str
        How the data were made, for the report.
    plot_range : (float, float) or None
        Range of ``variable`` for the potential figure (extrapolation beyond the
        data drawn in another colour).
    """

    key: str
    title: str
    experiment: str
    system: object
    train: Trajectories
    test: Trajectories | None
    variable: sp.Symbol
    library: Library
    truth: sp.Expr
    to_variable: Callable[[np.ndarray], np.ndarray]
    force_library: Library
    paper_key: str | None
    paper_threshold: float
    trainings: dict
    data_note: str
    plot_range: tuple[float, float] | None = None

    def sample_points(self, n: int = 2000) -> np.ndarray:
        """About ``n`` training positions, evenly spread along the data, shape (K, d)."""
        x = self.train.q.reshape(-1, self.train.dim)
        return x[:: max(1, len(x) // n)]


@dataclass(frozen=True)
class Experiment:
    """A named experiment of the paper: its section, and the cases it builds for a budget."""

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
    path = resources.files("symhamil") / "data" / "paper_results.json"
    return json.loads(path.read_text())["experiments"]


def paper_term(name: str, variable: sp.Symbol) -> sp.Expr:
    """A term of paper_results.json (``"q**2"``, ``"(10-r)**-1"``) as SymPy, in ``variable``."""
    return sp.sympify(name, locals={str(variable): variable})


# ---------------------------------------------------------------- recipes by budget
def _recipe(budget: str, quick: dict, default: dict, paper: dict, **common) -> Training:
    return Training(**common, **{"quick": quick, "default": default, "paper": paper}[budget])


def _default(budget: str, stride: int, **kw) -> Training:
    """symhamil's default route: midpoint loss, tanh, Adam then L-BFGS-B."""
    return _recipe(
        budget,
        quick={"steps": 200, "lbfgs_steps": 300, "stride": 2 * stride},
        default={"steps": 500, "lbfgs_steps": 1000, "stride": stride},
        paper={"steps": 5000, "lbfgs_steps": 10000, "stride": 1},
        **kw,
    )


def _faithful(budget: str, stride: int, paper_steps: int, paper_lr: float, **kw) -> Training:
    """The paper's loss (3) and architecture; at the paper budget its GD and step count."""
    return _recipe(
        budget,
        quick={"steps": 200, "lbfgs_steps": 300, "stride": 2 * stride},
        default={"steps": 500, "lbfgs_steps": 1000, "stride": stride},
        paper={"steps": paper_steps, "optimizer": "gd", "learning_rate": paper_lr, "stride": 1},
        loss="forward",
        **kw,
    )


def _poly_case(key, title, experiment, system, train, test, degree, trainings, note, plot_range):
    q = sp.Symbol("q")
    lib = Library.polynomial((q,), degree)
    truth = system.V.subs(system.coords[0], q)
    paper = paper_results()[key]
    return Case(
        key,
        title,
        experiment,
        system,
        train,
        test,
        q,
        lib,
        truth,
        lambda x: np.asarray(x).reshape(-1, 1),
        lib,
        key,
        paper["threshold"],
        trainings,
        note,
        plot_range,
    )


# ---------------------------------------------------------------- the experiments
def _sho(budget: str, seed: int) -> tuple[Case, ...]:
    train = datasets.harmonic_circles(R=10, h=0.01, steps=1000)
    trainings = {
        "paper": _faithful(budget, 5, 50000, 0.01),
        "default": _default(budget, 5),
    }
    note = (
        "Exact solutions: 10 circles through (q, p) = (0, i), i = 1..10, "
        "h = 0.01, 1000 steps each."
    )
    case = _poly_case(
        "harmonic_oscillator",
        "Harmonic oscillator",
        "sho",
        catalog.harmonic_oscillator(),
        train,
        None,
        3,
        trainings,
        note,
        (-15.0, 15.0),
    )
    return (case,)


def _find(traj: Trajectories, starts) -> list[int]:
    """Indices of the trajectories starting at the given (q, p)."""
    q0, p0 = traj.q[:, 0, 0], traj.p[:, 0, 0]
    return [int(np.flatnonzero(np.isclose(q0, a) & np.isclose(p0, b))[0]) for a, b in starts]


def _double_well(budget: str, seed: int) -> tuple[Case, ...]:
    system = catalog.double_well()
    n = 5001
    t1 = datasets.bhat2019("double_well_T1").head(n)
    regen = simulate(system, t1.q[:, 0], t1.p[:, 0], h=t1.h, steps=n - 1, method="rk")
    pair = datasets.bhat2019("double_well_pair").head(n)
    t3 = t1.select(_find(t1, [(-0.15, -0.48), (-0.59, -0.92)]))
    sets = [
        (
            "double_well_T1",
            "Double well, T1 (the author's ten trajectories)",
            t1,
            "the author's published T1: ten trajectories",
        ),
        (
            "double_well_T1_regenerated",
            "Double well, T1 regenerated by symhamil",
            regen,
            "T1's ten initial conditions, integrated by symhamil (DOP853, rtol = atol = 1e-12)",
        ),
        (
            "double_well_T2",
            "Double well, T2 (one trajectory in each well)",
            pair,
            "the author's pair from (0.9, 0) and (1.1, 0), one in each well",
        ),
        (
            "double_well_T3",
            "Double well, T3 (left well only)",
            t3,
            "T1's trajectories from (-0.15, -0.48) and (-0.59, -0.92), left well only",
        ),
    ]
    cases = []
    for key, title, train, what in sets:
        trainings = {
            "paper": _faithful(budget, 10, 50000, 0.01),
            "default": _default(budget, 10),
        }
        note = f"{what}; {train.N + 1} points each at h = 0.001."
        paper_key = "double_well_T1" if key == "double_well_T1_regenerated" else key
        case = _poly_case(
            paper_key, title, "double-well", system, train, None, 6, trainings, note, (-1.0, 3.0)
        )
        cases.append(replace(case, key=key))  # the regenerated set shares T1's paper row
    return tuple(cases)


def _radial_case(key, title, train, ell2_half, note, budget, paper_key) -> Case:
    system = catalog.central_force(L=10)
    veff = effective_potential(system, sp.sqrt(2 * sp.Float(ell2_half)))
    (r,) = veff.free_symbols
    lib = Library.inverse_powers(r, 3) | Library.shifted_inverse_powers(r, 10, 3)
    # The paper's recipe: elu, then softplus with exponential output, warm-started.
    stage2 = _recipe(
        budget,
        # At the paper's rate 1e-3, Adam needs thousands of steps before
        # L-BFGS-B can take over from the warm start.
        quick={"steps": 1000, "lbfgs_steps": 500},
        default={"steps": 3000, "lbfgs_steps": 1500},
        paper={"steps": 500000, "optimizer": "gd"},
        activation="softplus",
        output="exponential",
        loss="forward",
        learning_rate=1e-3,
        stride={"quick": 20, "default": 10, "paper": 1}[budget],
    )
    stage1 = _faithful(budget, 10, 500000, 1e-3, activation="elu")
    trainings = {
        "paper": replace(stage1, then=stage2, center=True),
        "default": _default(budget, 10),
    }
    return Case(
        key,
        title,
        "central-force",
        system,
        train,
        None,
        r,
        lib,
        veff,
        lambda x: np.asarray(x).reshape(-1, 1),
        lib,
        paper_key,
        paper_results()["central_force"]["threshold"],
        trainings,
        note,
        (0.5, 9.8),
    )


def _central_force(budget: str, seed: int) -> tuple[Case, ...]:
    rad = datasets.bhat2019("central_force_radial").select([0])
    authors = _radial_case(
        "central_force",
        "Central force, the author's radial trajectory 0",
        rad,
        datasets.CENTRAL_FORCE_RADIAL_L2_HALF,
        "The author's published radial trajectory 0, (r, dr/dt), 20001 points at h = 0.001; "
        f"l^2/2 = {datasets.CENTRAL_FORCE_RADIAL_L2_HALF} as published.",
        budget,
        "central_force",
    )
    system = catalog.central_force(L=10)
    x0 = np.random.default_rng(seed).uniform(-1, 1, size=(1, 6))
    traj3d = simulate(system, x0[:, :3], x0[:, 3:], h=0.001, steps=20000, method="rk")
    radial, ell = reduce_radial(traj3d)
    ours = _radial_case(
        "central_force_simulated",
        "Central force, symhamil's own trajectory",
        radial,
        float(ell[0]) ** 2 / 2,
        f"One trajectory from uniform random initial conditions in [-1, 1]^6 (seed {seed}), "
        "t = 0..20, h = 0.001, integrated by DOP853 and reduced to (r, dr/dt); "
        f"l^2/2 = {float(ell[0]) ** 2 / 2:.6f} from the data.",
        budget,
        None,
    )
    return authors, ours


#: (trajectories, saved steps) of the Coulomb data by budget; 80% train, 20% test.
#: Below the paper's size, many short trajectories cover r better than a few
#: long ones (measured: 200 x 251 points gave 10x smaller errors than 80 x 501).
COULOMB_SIZES = {"quick": (40, 250), "default": (250, 250), "paper": (1000, 10000)}


def _coulomb(budget: str, seed: int) -> tuple[Case, ...]:
    system = catalog.coulomb_pair()
    R, N = COULOMB_SIZES[budget]
    rng = np.random.default_rng(seed)
    shape = (R, 6)
    data = simulate(
        system,
        rng.standard_normal(shape),
        rng.standard_normal(shape),
        h=0.001,
        steps=N,
        method="verlet",
        substeps=10,
        drop_above=1e-4,
    )
    n_train = round(0.8 * data.R)
    train, test = data.select(range(n_train)), data.select(range(n_train, data.R))
    r = sp.Symbol("r", positive=True)
    lib = Library.inverse_powers(r, 3)
    q1, q2 = system.coords[:3], system.coords[3:]
    dist = sp.sqrt(sum((a - b) ** 2 for a, b in zip(q1, q2, strict=True)))
    force_lib = Library(tuple(dist**-k for k in range(1, 4)), system.coords)
    truth = system.V.subs(dist, r)

    def to_r(x):
        x = np.asarray(x).reshape(-1, 6)
        return np.linalg.norm(x[:, :3] - x[:, 3:], axis=1)[:, None]

    note = (
        f"{R} trajectories from standard-normal initial conditions (seed {seed}), "
        f"Stormer-Verlet with 10 substeps, h = 0.001, {N + 1} points each; "
        f"{data.R} kept (energy error < 1e-4), {train.R} for training, {test.R} held out. "
        "The paper used 1000 trajectories of 10001 points, 800 for training."
    )
    cases = []
    for key, features, width, paper_lr, window in (
        ("coulomb_difference_input", "difference", 16, 0.01, 100),
        ("coulomb_distance_input", "distance", 8, 0.05, None),
    ):
        faithful = _faithful(
            budget,
            10,
            500000 if window else 50000,
            paper_lr,
            features=features,
            hidden=(width,) * 8,
        )
        if window:
            faithful = replace(faithful, window=window)
        trainings = {
            "paper": faithful,
            "default": _default(budget, 10, features=features, hidden=(width,) * 8),
        }
        title = (
            "Two charged particles, architecture 1 (input q1 - q2)"
            if window
            else "Two charged particles, architecture 2 (input |q1 - q2|)"
        )
        cases.append(
            Case(
                key,
                title,
                "coulomb",
                system,
                train,
                test,
                r,
                lib,
                truth,
                to_r,
                Library((1, *force_lib.terms), system.coords),
                key,
                paper_results()[key]["threshold"],
                trainings,
                note,
                None,
            )
        )
    return tuple(cases)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment("sho", "Harmonic oscillator", "3.1", _sho),
        Experiment("double-well", "Double-well potential", "3.2", _double_well),
        Experiment("central-force", "Central force in 3-D, reduced to r", "3.3", _central_force),
        Experiment("coulomb", "Two charged particles", "3.4", _coulomb),
    )
}


def experiment(name: str) -> Experiment:
    """The experiment called ``name`` (one of :data:`EXPERIMENTS`)."""
    if name not in EXPERIMENTS:
        raise ValueError(
            f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} or 'all'."
        )
    return EXPERIMENTS[name]
