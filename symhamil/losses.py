"""The training losses of the paper and their O(h^2) variant, in NumPy.

The neural sub-package computes the same losses in TensorFlow; this module lets
any force (a System's, a fitted formula's) be scored on trajectories without
TensorFlow.

forward (paper eq. 3):  r_i = (p_{i+1} - p_i) / h + grad V(q_i)                O(h) bias
midpoint:               r_i = (p_{i+1} - p_i) / h + (grad V(q_i) + grad V(q_{i+1})) / 2
                                                                              O(h^2) bias
The loss is the mean of r_i^2 over trajectories, pairs (i, i+1) and components.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .trajectories import Trajectories

__all__ = ["LOSSES", "pair_indices", "trajectory_loss"]

LOSSES = ("forward", "midpoint")


def pair_indices(N: int, stride: int = 1) -> np.ndarray:
    """Start indices i of the (i, i+1) pairs used: 0, stride, 2 stride, ... < N."""
    if isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1; got {stride!r}.")
    return np.arange(0, N, int(stride))


def trajectory_loss(
    grad_V: Callable[[np.ndarray], np.ndarray],
    traj: Trajectories,
    kind: str = "forward",
    stride: int = 1,
) -> float:
    """The loss of a potential, given by its gradient, on trajectories.

    Parameters
    ----------
    grad_V : callable, (..., d) -> (..., d)
        Gradient of the potential; for a System, ``lambda q: -system.force(q)``.
    traj : Trajectories
        q, p of shape (R, N+1, d).
    kind : {"forward", "midpoint"}
    stride : int
        Use every ``stride``-th pair.

    Returns
    -------
    float
    """
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}.")
    i = pair_indices(traj.N, stride)
    dp = (traj.p[:, i + 1] - traj.p[:, i]) / traj.h
    g = grad_V(traj.q[:, i])
    if kind == "midpoint":
        g = 0.5 * (g + grad_V(traj.q[:, i + 1]))
    return float(np.mean((dp + g) ** 2))
