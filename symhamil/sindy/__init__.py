"""Sparse regression on symbolic libraries: SINDy on values and on forces.

One job per module:

- :mod:`.library`: candidate terms (:class:`Library`), their values and gradients;
- :mod:`.regression`: column-scaled least squares and STLSQ;
- :mod:`.selection`: how a model is chosen on the threshold path
  (:class:`Selection`: a fixed threshold, the residual rule or the BIC);
- :mod:`.fit`: the result value (:class:`SparseFit`), its provenance
  (:class:`Stage`) and its files;
- :mod:`.observations`: the linear system of force-SINDy (:func:`force_equations`);
- :mod:`.values`: SINDy on a potential's values (:func:`sindy`);
- :mod:`.forces`: force-SINDy (:func:`force_sindy`, :func:`pair_force_sindy`);
- :mod:`.refinement`: coefficients fitted to the trajectories by shooting
  (:func:`refine`);
- :mod:`.ensembles`: the block bootstrap (inclusion probabilities, intervals);
- :mod:`.friction`: friction libraries (Rayleigh functions R(q, p)) beside
  the potential's.
"""

from .ensembles import MAX_BOOTSTRAP, check_seed
from .fit import SOURCE_FIELDS, STEPS, PathStep, SparseFit, Stage
from .forces import force_sindy, pair_force_sindy, radial_force_sindy, select_friction
from .friction import friction_library
from .library import MAX_TERMS, NEAR_COLLINEAR, Library, LibraryWarning
from .observations import force_equations
from .refinement import RefineResult, refine
from .regression import stlsq
from .selection import DEFAULT_THRESHOLDS, SELECTIONS, Selection
from .values import sindy

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAX_BOOTSTRAP",
    "MAX_TERMS",
    "NEAR_COLLINEAR",
    "SELECTIONS",
    "SOURCE_FIELDS",
    "STEPS",
    "Library",
    "LibraryWarning",
    "PathStep",
    "RefineResult",
    "Selection",
    "SparseFit",
    "Stage",
    "check_seed",
    "force_equations",
    "force_sindy",
    "friction_library",
    "pair_force_sindy",
    "radial_force_sindy",
    "refine",
    "select_friction",
    "sindy",
    "stlsq",
]
