"""What a loss compares: linear observations of grad V along trajectories, in NumPy.

Every estimator that compares motion with a potential's gradient - the
network's training loss, force-SINDy, :func:`trajectory_loss` - takes its
observations from :func:`pairs`, so the stencils are written once. Each
observation w of trajectory r is

    target[r, w] + sum_m weights[m] * grad V(q[r, starts[w] + m])  ~  0

with the same weights for every observation:

forward (paper eq. 3):  (p_{i+1} - p_i)/h + grad V(q_i)                            O(h) bias
midpoint:               (p_{i+1} - p_i)/h + (grad V(q_i) + grad V(q_{i+1}))/2       O(h^2)
verlet (positions only): M (q_{i+1} - 2 q_i + q_{i-1})/h^2 + grad V(q_i)            O(h^2)
weak (integral form):   -int phi' p dt / int phi dt + int phi grad V dt / int phi dt
                        (with p), or M int phi'' q dt / int phi dt + ... (positions
                        only), phi(t) = (1 - s^2)^4 a smooth bump on a window of k
                        steps that vanishes with its first three derivatives at the
                        window's ends, so no boundary terms remain (weak SINDy,
                        Messenger and Bortz 2021). Differentiation moves onto phi,
                        and each window averages the noise of k + 1 samples.

The loss is the mean square of the residuals over every observation inside a
piece (ragged trajectories are masked) and every component.

The kinds form one registry, :data:`OBSERVATIONS` (as ``base.layers`` names the
activations): each :class:`Observation` says how its observations are built
and where grad V enters them (at one sample, at both ends of a pair, or
weighted over a window). The network's loss, force-SINDy and
:func:`trajectory_loss` read it; a new kind is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.trajectories import Trajectories
from ..systems.potentials import as_potential

__all__ = [
    "LOSSES",
    "OBSERVATIONS",
    "Observation",
    "Pairs",
    "average",
    "bump",
    "check_loss",
    "pair_indices",
    "pairs",
    "trajectory_loss",
]

#: The exponent of the weak form's bump (1 - s^2)^BUMP_POWER.
BUMP_POWER = 4


def check_loss(kind: str) -> str:
    """``kind`` if it names a loss; otherwise a ValueError listing them."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}.")
    return kind


def default_loss(traj: Trajectories) -> str:
    """The loss for data without a choice: midpoint with momenta, verlet without."""
    return "midpoint" if traj.has_momenta else "verlet"


def pair_indices(N: int, stride: int = 1) -> np.ndarray:
    """Start indices i of the (i, i+1) pairs used: 0, stride, 2 stride, ... < N."""
    if isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1; got {stride!r}.")
    return np.arange(0, N, int(stride))


def average(kind: str, g_start, g_end):
    """The gradient a pair or triple compares with its target.

    ``g_start`` (at q_i) where grad V enters at one sample; the mean of
    ``g_start`` and ``g_end`` (at q_{i+1}) where it enters at both ends. Works
    on NumPy arrays and on TensorFlow tensors alike (only + and * are used).
    """
    return 0.5 * (g_start + g_end) if OBSERVATIONS[kind].gathers == "ends" else g_start


def bump(k: int, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weak form's test function on k + 1 samples and its first two derivatives.

    phi(s) = (1 - s^2)^4 with s from -1 to 1 across the window of length k h.

    Returns
    -------
    phi, dphi, d2phi : ndarray, shape (k + 1,)
        Values at the samples; derivatives with respect to time.
    """
    s = np.linspace(-1.0, 1.0, k + 1)
    a = BUMP_POWER
    u = 1.0 - s**2
    ds = 2.0 / (k * h)  # ds/dt
    phi = u**a
    dphi = -2 * a * s * u ** (a - 1) * ds
    d2phi = (-2 * a * u ** (a - 1) + 4 * a * (a - 1) * s**2 * u ** (a - 2)) * ds**2
    return phi, dphi, d2phi


@dataclass(frozen=True)
class Pairs:
    """The observations of grad V a loss uses (pairs, triples or windows).

    Attributes
    ----------
    start, end : ndarray, shape (R, P, d)
        q at the first and last sample of each observation.
    dp : ndarray, shape (R, P, d)
        The target: (p_{i+1} - p_i)/h for the pair losses, its analogue for the
        others (the residual is dp + the weighted gradients).
    index : ndarray, shape (P,)
        The first sample of each observation (starts).
    kind : str
    weights : ndarray, shape (M,)
        grad V at samples start .. start + M - 1 enters with these weights.
    mask : ndarray of bool, shape (R, P), or None
        Which observations lie inside their piece (ragged data); None if all do.
    step : int
        Samples between consecutive starts.
    """

    start: np.ndarray
    end: np.ndarray
    dp: np.ndarray
    index: np.ndarray
    kind: str
    weights: np.ndarray
    q: np.ndarray
    mask: np.ndarray | None = None
    step: int = 1

    def combine(self, g: np.ndarray) -> np.ndarray:
        """sum_m weights[m] g[:, index + m]: values at every sample (R, N+1, ...) to
        one per observation (R, P, ...)."""
        out = 0.0
        for m, c in enumerate(self.weights):
            if c != 0:
                out = out + c * g[:, self.index + m]
        return out

    def gathered(self, f) -> np.ndarray:
        """``f`` (grad V, or the library's gradients) where this kind takes it, one
        value per observation: (R, P, d, ...). ``f`` maps positions (..., d) to
        (..., d, ...)."""
        gathers = OBSERVATIONS[self.kind].gathers
        if gathers == "start":
            return f(self.start)
        if gathers == "ends":
            return 0.5 * (f(self.start) + f(self.end))
        return self.combine(f(self.q))

    def gathered_states(self, f, p: np.ndarray) -> np.ndarray:
        """As :meth:`gathered`, for ``f`` of positions and momenta (friction's
        dR/dp): ``p`` (R, N+1, d) holds the momenta at every sample (measured,
        or estimated from the positions), and ``f`` maps (..., d), (..., d) to
        (..., d, ...)."""
        gathers = OBSERVATIONS[self.kind].gathers
        i = self.index
        if gathers == "start":
            return f(self.q[:, i], p[:, i])
        if gathers == "ends":
            return 0.5 * (f(self.q[:, i], p[:, i]) + f(self.q[:, i + 1], p[:, i + 1]))
        return self.combine(f(self.q, p))

    def residual(self, grad_V) -> np.ndarray:
        """dp + the weighted gradients, shape (R, P, d); ``grad_V`` maps (..., d) -> (..., d)."""
        return self.dp + self.gathered(grad_V)

    def rows(self, x: np.ndarray) -> np.ndarray:
        """The observations inside their pieces, flattened: (R, P, ...) -> (n, ...)."""
        if self.mask is None:
            return x.reshape((-1, *x.shape[2:]))
        return x[self.mask]

    @property
    def count(self) -> int:
        """Number of observations used."""
        return int(self.dp.shape[0] * self.dp.shape[1] if self.mask is None else self.mask.sum())


def pairs(
    traj: Trajectories,
    kind: str = "forward",
    stride: int = 1,
    window: int | None = None,
    window_step: int | None = None,
) -> Pairs:
    """The observations of ``traj`` for the loss ``kind``.

    Parameters
    ----------
    traj : Trajectories
        q (and p) of shape (R, N+1, d); ragged pieces are masked.
    kind : {"forward", "midpoint", "verlet", "weak"}
    stride : int
        Every ``stride``-th pair or triple (not for "weak").
    window : int, optional
        Steps per window of the weak form.
    window_step : int, optional
        Steps between the starts of consecutive weak windows; ``window // 2``
        (half overlap) by default.

    Returns
    -------
    Pairs
    """
    return OBSERVATIONS[check_loss(kind)].build(traj, kind, stride, window, window_step)


def _momentum_pairs(traj: Trajectories, kind, stride, window, window_step) -> Pairs:
    """(i, i+1) pairs: the momentum change per time against grad V."""
    p = traj.require_momenta(f"the {kind} loss")
    i = pair_indices(traj.N, stride)
    dp = (p[:, i + 1] - p[:, i]) / traj.h
    w = np.array([1.0]) if OBSERVATIONS[kind].gathers == "start" else np.array([0.5, 0.5])
    mask = _mask(traj, 1, i)
    return Pairs(traj.q[:, i], traj.q[:, i + 1], dp, i, kind, w, traj.q, mask, stride)


def _triples(traj: Trajectories, kind, stride, window, window_step) -> Pairs:
    """(i-1, i, i+1) triples of positions: mass times the second difference."""
    if traj.N < 2:
        raise ValueError("second differences need at least 3 points per trajectory.")
    m = traj.mass_array
    i = pair_indices(traj.N - 1, stride) + 1  # centres 1 .. N-1
    q = traj.q
    acc = m * (q[:, i + 1] - 2 * q[:, i] + q[:, i - 1]) / traj.h**2
    mask = _mask(traj, 2, i - 1)
    return Pairs(q[:, i], q[:, i], acc, i, kind, np.array([1.0]), q, mask, stride)


def _windows(traj: Trajectories, kind, stride, window, window_step) -> Pairs:
    """Windows of the weak form: the motion and grad V integrated against a bump."""
    h = traj.h
    m = traj.mass_array
    k = _check_window(window, traj)
    step = max(1, k // 2) if window_step is None else int(window_step)
    starts = np.arange(0, traj.N - k + 1, step)
    phi, dphi, d2phi = bump(k, h)
    norm = h * phi.sum()
    if traj.has_momenta:
        # int phi dp/dt dt = -int phi' p dt, and dp/dt = -grad V.
        target = -_apply(traj.p, starts, h * dphi) / norm
    else:
        # M int phi q'' dt = M int phi'' q dt, and M q'' = -grad V.
        target = m * _apply(traj.q, starts, h * d2phi) / norm
    mask = None if not traj.ragged else traj.valid(k)[:, starts]
    return Pairs(
        traj.q[:, starts],
        traj.q[:, starts + k],
        target,
        starts,
        kind,
        h * phi / norm,
        traj.q,
        mask,
        step,
    )


@dataclass(frozen=True)
class Observation:
    """One kind of observation of grad V, named once.

    Attributes
    ----------
    name : str
    gathers : {"start", "ends", "window"}
        Where grad V enters each observation: at one sample (its ``start``), as
        the mean over both ends of a pair, or weighted over a window (``combine``).
    needs_momenta : bool
    bias : str
        The order of its error in h (for the docs and messages).
    build : callable
        (traj, kind, stride, window, window_step) -> Pairs.
    """

    name: str
    gathers: str
    needs_momenta: bool
    bias: str
    build: Callable[..., Pairs]


#: Every kind of observation, by name: the one registry the learners read.
OBSERVATIONS = {
    o.name: o
    for o in (
        Observation("forward", "start", True, "O(h)", _momentum_pairs),
        Observation("midpoint", "ends", True, "O(h^2)", _momentum_pairs),
        Observation("verlet", "start", False, "O(h^2)", _triples),
        Observation("weak", "window", False, "quadrature", _windows),
    )
}
#: The observation kinds, as losses and force-SINDy name them.
LOSSES = tuple(OBSERVATIONS)
#: Losses that need momenta.
MOMENTUM_LOSSES = tuple(k for k, o in OBSERVATIONS.items() if o.needs_momenta)


def _mask(traj: Trajectories, offset: int, first: np.ndarray) -> np.ndarray | None:
    """Which observations over samples first .. first + offset are all measured
    and inside their piece; None when every one is."""
    if not (traj.ragged or traj.bridged):
        return None
    return traj.measured(offset)[:, first]


def _apply(x: np.ndarray, starts: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0], starts.size, *x.shape[2:]))
    for m, c in enumerate(w):
        out += c * x[:, starts + m]
    return out


def _check_window(window, traj: Trajectories) -> int:
    if window is None:
        raise ValueError("the weak loss needs a window (steps per test function).")
    if isinstance(window, bool) or int(window) != window or window < 4:
        raise ValueError(f"the window must be a whole number of steps >= 4; got {window!r}.")
    if window > traj.N:
        raise ValueError(
            f"a window of {window} steps is longer than the longest trajectory ({traj.N} steps)."
        )
    if traj.ragged and not (traj.sizes > window).any():
        raise ValueError(f"no piece is longer than the window of {window} steps.")
    return int(window)


def trajectory_loss(
    target,
    traj: Trajectories,
    kind: str = "forward",
    stride: int = 1,
    window: int | None = None,
    window_step: int | None = None,
) -> float:
    """The loss of a potential on trajectories.

    Parameters
    ----------
    target : System, NeuralPotential, sympy.Expr or Potential
        Anything :func:`symhamil.as_potential` turns into a gradient;
        a bare gradient function as ``Potential(gradient=f)``.
    traj : Trajectories
        q, p of shape (R, N+1, d).
    kind : {"forward", "midpoint", "verlet", "weak"}
    stride : int
        Use every ``stride``-th pair.
    window, window_step : int, optional
        Steps per window of the weak loss, and between window starts.

    Returns
    -------
    float
    """
    grad = as_potential(target, traj.coords).require_gradient()
    pr = pairs(traj, kind, stride, window, window_step)
    return float(np.mean(pr.rows(pr.residual(grad)) ** 2))
