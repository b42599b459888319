"""symhamil: learn a Hamiltonian system's potential from trajectories, then explain it.

The public face of the package. Declaring systems, simulating, reducing and
loading data never import TensorFlow; the neural part lives in
:mod:`symhamil.neural`.

Examples
--------
>>> import sympy as sp, symhamil as sh
>>> q = sp.Symbol("q")
>>> sho = sh.System(coords=(q,), V=q**2 / 2)
>>> traj = sh.simulate(sho, [[0.0]], [[1.0]], h=0.01, steps=100, method="exact")
>>> traj.q.shape
(1, 101, 1)
"""

from . import _moved, datasets
from .data.geometry import Geometry
from .data.noise import NoiseLevel, noise_level
from .data.samples import SamplingReport, SamplingWarning
from .data.trajectories import Trajectories, load_radial
from .interpret.assess import Assessment, assess
from .interpret.compare import Comparison, compare
from .interpret.export import pade, taylor, to_sympy
from .interpret.md_export import lammps_table, pair_calculator, rerun_check
from .interpret.rollout import Rollout, rollout
from .learning.planning import Plan, plan
from .learning.training import Scaling, TrainingSpec
from .readers.md import read_ase
from .readers.tables import read_csv
from .report import plots
from .sindy import (
    Library,
    LibraryWarning,
    RefineResult,
    Selection,
    SparseFit,
    Stage,
    force_sindy,
    pair_force_sindy,
    radial_force_sindy,
    refine,
    select_friction,
    sindy,
    stlsq,
)
from .systems import catalog
from .systems.pairs import PairSystem, pair_potentials
from .systems.potentials import Potential, as_potential
from .systems.reduce import (
    ConservationWarning,
    effective_potential,
    radial_potential,
    reduce_radial,
)
from .systems.simulate import METHODS, EnergyErrorWarning, simulate
from .systems.system import System

__version__ = "0.1.0"

_moved.install()


def __getattr__(name: str):
    # Modules that moved in the second rebuild (sh.pairs, sh.noise, ...): found
    # at their new place, with a DeprecationWarning.
    return _moved.attribute(name)


__all__ = [
    "METHODS",
    "Assessment",
    "Comparison",
    "ConservationWarning",
    "EnergyErrorWarning",
    "Geometry",
    "Library",
    "LibraryWarning",
    "NoiseLevel",
    "PairSystem",
    "Plan",
    "Potential",
    "RefineResult",
    "Rollout",
    "SamplingReport",
    "SamplingWarning",
    "Scaling",
    "Selection",
    "SparseFit",
    "Stage",
    "System",
    "TrainingSpec",
    "Trajectories",
    "__version__",
    "as_potential",
    "assess",
    "catalog",
    "compare",
    "datasets",
    "effective_potential",
    "force_sindy",
    "lammps_table",
    "load_radial",
    "noise_level",
    "pade",
    "pair_calculator",
    "pair_force_sindy",
    "pair_potentials",
    "plan",
    "plots",
    "radial_force_sindy",
    "radial_potential",
    "read_ase",
    "read_csv",
    "reduce_radial",
    "refine",
    "rerun_check",
    "rollout",
    "select_friction",
    "simulate",
    "sindy",
    "stlsq",
    "taylor",
    "to_sympy",
]
