"""Sparse regression on symbolic libraries: SINDy on values and on forces.

One job per module:

- :mod:`.library`: candidate terms (:class:`Library`), their values and gradients;
- :mod:`.regression`: column-scaled least squares, STLSQ, the threshold path and
  the rules that choose a model on it;
- :mod:`.fit`: the result value (:class:`SparseFit`) and its files;
- :mod:`.observations`: the linear system of force-SINDy (:func:`force_equations`);
- :mod:`.values`: SINDy on a potential's values (:func:`sindy`);
- :mod:`.forces`: force-SINDy with shooting and the bootstrap
  (:func:`force_sindy`, :func:`pair_force_sindy`).
"""

from .fit import SOURCE_FIELDS, PathStep, SparseFit
from .forces import MAX_BOOTSTRAP, check_seed, force_sindy, pair_force_sindy
from .library import MAX_TERMS, NEAR_COLLINEAR, Library, LibraryWarning
from .observations import force_equations
from .regression import DEFAULT_THRESHOLDS, SELECTIONS, stlsq
from .values import sindy

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAX_BOOTSTRAP",
    "MAX_TERMS",
    "NEAR_COLLINEAR",
    "SELECTIONS",
    "SOURCE_FIELDS",
    "Library",
    "LibraryWarning",
    "PathStep",
    "SparseFit",
    "check_seed",
    "force_equations",
    "force_sindy",
    "pair_force_sindy",
    "sindy",
    "stlsq",
]
