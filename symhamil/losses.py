"""The (i, i+1) pairs of trajectories and the losses built on them, in NumPy.

Every estimator that compares momentum changes with a potential's gradient -
the network's training loss, force-SINDy, :func:`trajectory_loss` - takes its
pairs from :func:`pairs` and averages gradients with :func:`average`, so the
pairs, the momentum differences and the forward/midpoint rule are written once.

forward (paper eq. 3):  r_i = (p_{i+1} - p_i) / h + grad V(q_i)                O(h) bias
midpoint:               r_i = (p_{i+1} - p_i) / h + (grad V(q_i) + grad V(q_{i+1})) / 2
                                                                              O(h^2) bias
The loss is the mean of r_i^2 over trajectories, pairs (i, i+1) and components.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .potentials import as_potential
from .trajectories import Trajectories

__all__ = [
    "LOSSES",
    "Pairs",
    "average",
    "check_loss",
    "pair_indices",
    "pairs",
    "trajectory_loss",
    "window_means",
    "window_starts",
]

LOSSES = ("forward", "midpoint")


def check_loss(kind: str) -> str:
    """``kind`` if it names a loss; otherwise a ValueError listing them."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}.")
    return kind


def pair_indices(N: int, stride: int = 1) -> np.ndarray:
    """Start indices i of the (i, i+1) pairs used: 0, stride, 2 stride, ... < N."""
    if isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1; got {stride!r}.")
    return np.arange(0, N, int(stride))


def average(kind: str, g_start, g_end):
    """The gradient a loss compares with (p_{i+1} - p_i) / h.

    ``g_start`` at q_i for the forward loss; the mean of ``g_start`` and ``g_end``
    (at q_{i+1}) for the midpoint loss. Works on NumPy arrays and on TensorFlow
    tensors alike (only + and * are used).
    """
    return g_start if kind == "forward" else 0.5 * (g_start + g_end)


@dataclass(frozen=True)
class Pairs:
    """The (i, i+1) pairs of trajectories used by a loss.

    Attributes
    ----------
    start, end : ndarray, shape (R, P, d)
        q_i and q_{i+1} of the P pairs of each trajectory.
    dp : ndarray, shape (R, P, d)
        (p_{i+1} - p_i) / h.
    index : ndarray, shape (P,)
        The start indices i.
    kind : {"forward", "midpoint"}
    """

    start: np.ndarray
    end: np.ndarray
    dp: np.ndarray
    index: np.ndarray
    kind: str

    def residual(self, grad_V) -> np.ndarray:
        """dp + average of grad V, shape (R, P, d); ``grad_V`` maps (..., d) -> (..., d)."""
        end = grad_V(self.end) if self.kind == "midpoint" else None
        return self.dp + average(self.kind, grad_V(self.start), end)


def pairs(traj: Trajectories, kind: str = "forward", stride: int = 1) -> Pairs:
    """The pairs (q_i, q_{i+1}) and momentum differences of ``traj`` for the loss ``kind``.

    Parameters
    ----------
    traj : Trajectories
        q, p of shape (R, N+1, d).
    kind : {"forward", "midpoint"}
    stride : int
        Every ``stride``-th pair: i = 0, stride, 2 stride, ... < N.

    Returns
    -------
    Pairs
    """
    check_loss(kind)
    i = pair_indices(traj.N, stride)
    dp = (traj.p[:, i + 1] - traj.p[:, i]) / traj.h
    return Pairs(traj.q[:, i], traj.q[:, i + 1], dp, i, kind)


def trajectory_loss(target, traj: Trajectories, kind: str = "forward", stride: int = 1) -> float:
    """The loss of a potential on trajectories.

    Parameters
    ----------
    target : System, NeuralPotential, sympy.Expr or Potential
        Anything :func:`symhamil.potentials.as_potential` turns into a gradient;
        a bare gradient function as ``Potential(gradient=f)``.
    traj : Trajectories
        q, p of shape (R, N+1, d).
    kind : {"forward", "midpoint"}
    stride : int
        Use every ``stride``-th pair.

    Returns
    -------
    float
    """
    grad = as_potential(target, traj.coords).require_gradient()
    return float(np.mean(pairs(traj, kind, stride).residual(grad) ** 2))


# ---------------------------------------------------------------- the weak (integral) form
def window_starts(N: int, k: int) -> np.ndarray:
    """Starts of the non-overlapping windows of ``k`` steps in N steps: 0, k, 2k, ..."""
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"the window must be a whole number of steps >= 1; got {k!r}.")
    if k > N:
        raise ValueError(f"a window of {k} steps is longer than the {N} steps of the data.")
    return np.arange(0, N - int(k) + 1, int(k))


def window_means(g: np.ndarray, k: int) -> np.ndarray:
    """Time averages over windows of ``k`` steps by the composite trapezoid rule.

    The weak form of Hamilton's equation: p(t + kh) - p(t) = -int grad V dt, so
    (p_{i+k} - p_i)/(kh) equals the window mean of -grad V. Differences of
    momenta over k steps carry k times less relative noise than single steps.

    Parameters
    ----------
    g : ndarray, shape (R, N+1, ...)
        Values at every sample.
    k : int

    Returns
    -------
    ndarray, shape (R, W, ...)
        One mean per window (:func:`window_starts`).
    """
    starts = window_starts(g.shape[1] - 1, k)
    steps = 0.5 * (g[:, 1:] + g[:, :-1])
    c = np.concatenate([np.zeros_like(g[:, :1]), np.cumsum(steps, axis=1)], axis=1)
    return (c[:, starts + k] - c[:, starts]) / k
