"""Trajectories published with the paper, shipped inside the package.

The author's data (converted to ``.npz``, float64) are described in
``docs/data.md``. Energy is conserved to about 4e-9 in each file.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..data.trajectories import Trajectories, load_radial
from ..systems.catalog import harmonic_oscillator
from ..systems.simulate import simulate

__all__ = ["BHAT2019", "bhat2019", "bhat2019_path", "harmonic_circles"]

#: Shipped files and what they hold.
BHAT2019 = {
    "double_well_T1": "double well, the ten initial conditions of training set T1, "
    "q, p: (10, 10001, 1), h = 0.001 (the last trajectory crosses the barrier)",
    "double_well_pair": "double well from (0.9, 0) and (1.1, 0), one trajectory in each well, "
    "q, p: (2, 10001, 1), h = 0.001",
    "central_force_radial": "radial coordinate (r, dr/dt) of the 3-D central-force problem, "
    "(10, 20001, 1), h = 0.001; trajectory 0 is the paper's, with l^2/2 = 0.465515",
}

#: l^2 / 2 of radial trajectory 0, as the paper reports it.
CENTRAL_FORCE_RADIAL_L2_HALF = 0.465515


def bhat2019_path(name: str):
    """Path of a shipped data file (a ``importlib.resources`` Traversable)."""
    if name not in BHAT2019:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(BHAT2019)}.")
    return resources.files(__name__) / "bhat2019" / f"{name}.npz"


def bhat2019(name: str) -> Trajectories:
    """Load one of the paper author's trajectory sets by name (see :data:`BHAT2019`).

    Examples
    --------
    >>> bhat2019("double_well_T1").q.shape
    (10, 10001, 1)
    >>> bhat2019("central_force_radial").names
    ('r',)
    """
    path = bhat2019_path(name)
    with resources.as_file(path) as p:
        if name == "central_force_radial":
            return load_radial(p)
        return Trajectories.load(p)


def harmonic_circles(R: int = 10, h: float = 0.01, steps: int = 1000) -> Trajectories:
    """The paper's harmonic-oscillator data (section 3.1), exact.

    R circles in phase space, the i-th through (q, p) = (0, i), i = 1..R,
    sampled every h for ``steps`` steps: q = i sin t, p = i cos t.
    """
    return simulate(
        harmonic_oscillator(),
        np.zeros((R, 1)),
        np.arange(1.0, R + 1)[:, None],
        h=h,
        steps=steps,
        method="exact",
    )
