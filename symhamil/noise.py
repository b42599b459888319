"""The noise in measured trajectories, estimated from the data, and smoothing.

For samples x_i = s(t_i) + e_i of a smooth signal s with white noise e of
standard deviation sigma, the m-th difference of x is dominated by the noise:
its variance is sigma^2 * C(2m, m) (the signal's part is O(h^m)). symhamil uses
m = 6, and a median-based (robust) spread, so that a few outliers or a gap do
not inflate the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from scipy.signal import savgol_filter

from .trajectories import Trajectories

__all__ = ["NoiseLevel", "noise_level", "smooth"]

#: The order of the differences the estimate is taken from.
ORDER = 6
#: Median absolute deviation to standard deviation, for Gaussian noise.
_MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class NoiseLevel:
    """Estimated noise per coordinate.

    Attributes
    ----------
    q, p : ndarray, shape (d,)
        Standard deviation of the noise of each coordinate and momentum.
    q_fraction, p_fraction : ndarray, shape (d,)
        The same, as fractions of each coordinate's standard deviation.
    """

    q: np.ndarray
    p: np.ndarray
    q_fraction: np.ndarray
    p_fraction: np.ndarray

    def __repr__(self) -> str:
        def pct(a):
            return ", ".join(f"{100 * v:.3g}%" for v in a)

        return f"NoiseLevel(q: {pct(self.q_fraction)}; p: {pct(self.p_fraction)} of the spread)"


def _sigma(x: np.ndarray) -> np.ndarray:
    """Noise standard deviation of x (R, N+1, d) along axis 1, per component."""
    if x.shape[1] <= ORDER:
        raise ValueError(
            f"estimating noise needs more than {ORDER} samples per trajectory; got {x.shape[1]}."
        )
    dx = np.diff(x, n=ORDER, axis=1).reshape(-1, x.shape[2])
    mad = np.median(np.abs(dx - np.median(dx, axis=0)), axis=0)
    return _MAD_TO_STD * mad / np.sqrt(comb(2 * ORDER, ORDER))


def noise_level(traj: Trajectories) -> NoiseLevel:
    """The noise of each coordinate and momentum of ``traj``, estimated from the data.

    Examples
    --------
    >>> import numpy as np, symhamil as sh
    >>> tr = sh.datasets.harmonic_circles(R=5, steps=1000)
    >>> rng = np.random.default_rng(0)
    >>> noisy = sh.Trajectories(q=tr.q + 0.01 * rng.standard_normal(tr.q.shape), p=tr.p, h=tr.h)
    >>> round(float(sh.noise_level(noisy).q[0]), 3)
    0.01
    """
    sq, sp_ = _sigma(traj.q), _sigma(traj.p)
    spread_q = traj.q.reshape(-1, traj.dim).std(axis=0)
    spread_p = traj.p.reshape(-1, traj.dim).std(axis=0)
    return NoiseLevel(
        sq,
        sp_,
        sq / np.where(spread_q > 0, spread_q, 1),
        sp_ / np.where(spread_p > 0, spread_p, 1),
    )


def smooth(traj: Trajectories, window: int, order: int = 3) -> Trajectories:
    """``traj`` with q and p smoothed along time by a Savitzky-Golay filter.

    Parameters
    ----------
    window : int
        Odd number of samples of the filter (more smooths more, and bends
        sharp turns of the signal more).
    order : int
        Degree of the local polynomials.
    """
    if isinstance(window, bool) or int(window) != window or window < order + 2 or window % 2 == 0:
        raise ValueError(
            f"the smoothing window must be an odd whole number > order + 1 = {order + 1}; "
            f"got {window!r}."
        )
    if window > traj.N + 1:
        raise ValueError(
            f"the smoothing window ({window} samples) is longer than the trajectories "
            f"({traj.N + 1} samples)."
        )
    q = savgol_filter(traj.q, int(window), order, axis=1)
    p = savgol_filter(traj.p, int(window), order, axis=1)
    return Trajectories(q=q, p=p, h=traj.h, names=traj.names, t0=traj.t0)
