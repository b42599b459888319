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

from . import catalog, datasets, plots
from .compare import Comparison, compare
from .export import pade, taylor, to_sympy
from .md import read_ase
from .noise import NoiseLevel, noise_level
from .pairs import PairSystem
from .potentials import Potential, as_potential
from .readers import read_csv
from .reduce import ConservationWarning, effective_potential, radial_potential, reduce_radial
from .rollout import RefineResult, Rollout, refine, rollout
from .samples import SamplingReport, SamplingWarning
from .simulate import METHODS, EnergyErrorWarning, simulate
from .sindy import Library, LibraryWarning, SparseFit, force_sindy, pair_force_sindy, sindy, stlsq
from .system import System
from .training import TrainingSpec
from .trajectories import Trajectories, load_radial

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "Comparison",
    "ConservationWarning",
    "EnergyErrorWarning",
    "Library",
    "LibraryWarning",
    "NoiseLevel",
    "PairSystem",
    "Potential",
    "RefineResult",
    "Rollout",
    "SamplingReport",
    "SamplingWarning",
    "SparseFit",
    "System",
    "TrainingSpec",
    "Trajectories",
    "__version__",
    "as_potential",
    "catalog",
    "compare",
    "datasets",
    "effective_potential",
    "force_sindy",
    "load_radial",
    "noise_level",
    "pade",
    "pair_force_sindy",
    "plots",
    "radial_potential",
    "read_ase",
    "read_csv",
    "reduce_radial",
    "refine",
    "rollout",
    "simulate",
    "sindy",
    "stlsq",
    "taylor",
    "to_sympy",
]
